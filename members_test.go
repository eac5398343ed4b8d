package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/partsmarket/gateway/internal/notify"
	"github.com/partsmarket/gateway/internal/notify/notifytest"
	"github.com/partsmarket/gateway/store"
)

const (
	mutRegisterSeller = `mutation($input: CreateSellerInput!) { registerSeller(input: $input) { seller { id status } } }`
	mutInvite         = `mutation($s: ID!, $email: String!, $r: MemberRole!) {
		inviteSellerMember(sellerId: $s, email: $email, role: $r) { invitation { id email role expiresAt } } }`
	mutAccept  = `mutation($t: String!) { acceptSellerInvitation(token: $t) { seller { id } } }`
	mutRemove  = `mutation($s: ID!, $sub: String!) { removeSellerMember(sellerId: $s, subject: $sub) { seller { id members { subject } } } }`
	mutRevoke  = `mutation($sub: String!, $iss: String) { revokeSessions(subject: $sub, issuer: $iss) { revokedBefore } }`
	qViewer    = `{ viewer { role subject email seller { id } membership { role } } }`
	qMembers   = `query($id: ID!) { seller(id: $id) { members { subject email role joinedAt } } }`
	inviteMail = "new.hire@members.example"
)

// codeOf returns the code of the response's only error, or a description
// of what it has instead.
func codeOf(r gqlResponse) string {
	if len(r.Errors) != 1 {
		return fmt.Sprintf("%d errors: %s", len(r.Errors), r.Raw)
	}
	return r.Errors[0].Code()
}

// membersOf returns subject → role of sellerID's members as admin sees them.
func (a *testAPI) membersOf(admin, sellerID string) map[string]string {
	a.t.Helper()
	r := a.mustPost(admin, qMembers, map[string]any{"id": sellerID})
	out := map[string]string{}
	ms, _ := r.Get("seller.members").([]any)
	for _, m := range ms {
		m := m.(map[string]any)
		out[m["subject"].(string)] = m["role"].(string)
	}
	return out
}

func TestRegisterSeller(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	input := map[string]any{"input": map[string]any{"companyName": "Echo Engines",
		"contacts": []any{map[string]any{"kind": "EMAIL", "value": "sales@echo.example"}}}}
	user := api.userToken("founder")

	t.Run("refused to everyone but a user", func(t *testing.T) {
		for name, tc := range map[string]struct{ token, code string }{
			"anonymous": {"", "UNAUTHENTICATED"}, "admin": {f.Admin, "FORBIDDEN"}, "seller token": {f.TokenA, "FORBIDDEN"},
			"owner member": {f.OwnerA, "FORBIDDEN"}, "analyst": {f.Analyst, "FORBIDDEN"},
		} {
			if got := codeOf(api.post(tc.token, mutRegisterSeller, input)); got != tc.code {
				t.Errorf("%s: %s, want %s", name, got, tc.code)
			}
		}
	})
	t.Run("bad input names the field", func(t *testing.T) {
		r := api.post(user, mutRegisterSeller, map[string]any{"input": map[string]any{"companyName": " "}})
		if codeOf(r) != "BAD_USER_INPUT" || r.Errors[0].Field() != "input.companyName" {
			t.Errorf("got %s, want BAD_USER_INPUT on input.companyName", r.Raw)
		}
	})
	var sellerID string
	t.Run("a user registers a PENDING seller and owns it", func(t *testing.T) {
		r := api.mustPost(user, mutRegisterSeller, input)
		sellerID, _ = r.Get("registerSeller.seller.id").(string)
		if got := r.Get("registerSeller.seller.status"); got != "PENDING" {
			t.Errorf("status %v, want PENDING", got)
		}
		v := api.mustPost(user, qViewer, nil)
		if v.Get("viewer.role") != "SELLER" || v.Get("viewer.seller.id") != sellerID || v.Get("viewer.membership.role") != "OWNER" {
			t.Errorf("viewer after registering: %s", v.Raw)
		}
		if got := api.membersOf(f.Admin, sellerID); len(got) != 1 || got["founder"] != "OWNER" {
			t.Errorf("members %v, want founder as OWNER", got)
		}
	})
	t.Run("a member registers no second seller", func(t *testing.T) {
		if got := codeOf(api.post(user, mutRegisterSeller, input)); got != "FORBIDDEN" {
			t.Errorf("second registration: %s, want FORBIDDEN", got)
		}
	})
	t.Run("the owner of a pending seller works on it", func(t *testing.T) {
		r := api.post(user, `mutation($id: ID!) { updateSellerProfile(id: $id, input: {description: "Rebuilt engines"}) { seller { description } } }`,
			map[string]any{"id": sellerID})
		if len(r.Errors) > 0 || r.Get("updateSellerProfile.seller.description") != "Rebuilt engines" {
			t.Errorf("profile update by the owner: %s", r.Raw)
		}
	})
}

// invitationToken waits for the invitation mail to to arrive at sink and
// returns the token it carries.
func invitationToken(t *testing.T, sink *notifytest.Server, to string) string {
	t.Helper()
	var token string
	notifyWaitFor(t, liveWait, "the invitation mail to "+to, func() bool {
		for _, m := range sink.Messages() {
			if strings.Join(m.To, ",") != to {
				continue
			}
			p, err := m.Parse()
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(p.Body, "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), notify.InvitationCodeLabel); ok {
					token = strings.TrimSpace(rest)
				}
			}
			return token != ""
		}
		return false
	})
	return token
}

func TestSellerInvitation(t *testing.T) {
	sink := startSMTPSink(t)
	api := newTestAPI(t, notifyEnv(sink))
	f := api.newFixture()
	invite := func(token, email, role string) gqlResponse {
		return api.post(token, mutInvite, map[string]any{"s": f.SellerA.ID, "email": email, "r": role})
	}

	t.Run("only the seller's OWNER or an admin invites", func(t *testing.T) {
		for name, tc := range map[string]struct{ token, code string }{
			"anonymous": {"", "UNAUTHENTICATED"}, "user": {f.User, "FORBIDDEN"}, "staff member": {f.StaffA, "FORBIDDEN"},
			"seller token": {f.TokenA, "FORBIDDEN"}, "other seller": {f.TokenB, "NOT_FOUND"}, "analyst": {f.Analyst, "FORBIDDEN"},
		} {
			if got := codeOf(invite(tc.token, "x@members.example", "STAFF")); got != tc.code {
				t.Errorf("%s: %s, want %s", name, got, tc.code)
			}
		}
		if r := invite(f.OwnerA, "not-an-email", "STAFF"); codeOf(r) != "BAD_USER_INPUT" || r.Errors[0].Field() != "email" {
			t.Errorf("bad email: %s, want BAD_USER_INPUT on email", r.Raw)
		}
	})
	var token string
	t.Run("the owner's invitation is mailed with a token kept only as a hash", func(t *testing.T) {
		r := invite(f.OwnerA, inviteMail, "STAFF")
		if len(r.Errors) > 0 || r.Get("inviteSellerMember.invitation.email") != inviteMail ||
			r.Get("inviteSellerMember.invitation.role") != "STAFF" || r.Get("inviteSellerMember.invitation.expiresAt") == nil {
			t.Fatalf("invitation: %s", r.Raw)
		}
		token = invitationToken(t, sink, inviteMail)
		if len(token) < 40 {
			t.Fatalf("token %q is too short to be unguessable", token)
		}
		notifyWaitFor(t, liveWait, "the sent mail's token erased", func() bool {
			var left int
			api.DB.QueryRow(`SELECT count(*) FROM seller_invitations WHERE mail_pii IS NOT NULL`).Scan(&left)
			return left == 0
		})
		var dump string
		api.DB.QueryRow(`SELECT string_agg(t::text, ' ') FROM seller_invitations t`).Scan(&dump)
		for _, secret := range []string{token, inviteMail} {
			if strings.Contains(dump, secret) {
				t.Errorf("seller_invitations holds %q in clear", secret)
			}
		}
	})
	invitee := api.userToken("new-hire")
	t.Run("a wrong or expired token is refused", func(t *testing.T) {
		if r := api.post(invitee, mutAccept, map[string]any{"t": token + "x"}); codeOf(r) != "BAD_USER_INPUT" || r.Errors[0].Field() != "token" {
			t.Errorf("wrong token: %s", r.Raw)
		}
		if got := codeOf(api.post(invitee, mutAccept, map[string]any{"t": strings.Repeat("a", 200)})); got != "BAD_USER_INPUT" {
			t.Errorf("overlong token: %s", got)
		}
		expired := invite(f.OwnerA, "late@members.example", "STAFF")
		late := invitationToken(t, sink, "late@members.example")
		api.DB.MustExec(`UPDATE seller_invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`,
			expired.Get("inviteSellerMember.invitation.id"))
		if got := codeOf(api.post(invitee, mutAccept, map[string]any{"t": late})); got != "BAD_USER_INPUT" {
			t.Errorf("expired token: %s, want BAD_USER_INPUT", got)
		}
	})
	t.Run("the invitee joins with the token, once", func(t *testing.T) {
		r := api.mustPost(invitee, mutAccept, map[string]any{"t": token})
		if r.Get("acceptSellerInvitation.seller.id") != f.SellerA.ID {
			t.Fatalf("accepted into %v, want seller A", r.Raw)
		}
		v := api.mustPost(invitee, qViewer, nil)
		if v.Get("viewer.role") != "SELLER" || v.Get("viewer.membership.role") != "STAFF" || v.Get("viewer.seller.id") != f.SellerA.ID {
			t.Errorf("viewer after joining: %s", v.Raw)
		}
		m := api.mustPost(f.OwnerA, qMembers, map[string]any{"id": f.SellerA.ID})
		found := false
		for _, x := range m.Get("seller.members").([]any) {
			x := x.(map[string]any)
			found = found || (x["subject"] == "new-hire" && x["email"] == inviteMail && x["role"] == "STAFF")
		}
		if !found {
			t.Errorf("members lack the invitee with the invited email: %s", m.Raw)
		}
		if got := codeOf(api.post(api.userToken("someone-else"), mutAccept, map[string]any{"t": token})); got != "BAD_USER_INPUT" {
			t.Errorf("a used token: %s, want BAD_USER_INPUT", got)
		}
	})
	t.Run("staff do what the seller does but manage members", func(t *testing.T) {
		r := api.post(f.StaffA, `mutation($s: ID!) { createListing(input: {sellerId: $s, title: "Staff pump", condition: NEW}) { listing { id } } }`,
			map[string]any{"s": f.SellerA.ID})
		if len(r.Errors) > 0 {
			t.Errorf("createListing by staff: %s", r.Raw)
		}
		if got := codeOf(api.post(f.StaffA, mutRemove, map[string]any{"s": f.SellerA.ID, "sub": "new-hire"})); got != "FORBIDDEN" {
			t.Errorf("removeSellerMember by staff: %s, want FORBIDDEN", got)
		}
		if got := codeOf(invite(f.StaffA, "y@members.example", "OWNER")); got != "FORBIDDEN" {
			t.Errorf("inviteSellerMember by staff: %s, want FORBIDDEN", got)
		}
	})
}

func TestInvitationDailyLimit(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const tries = store.MaxInvitationsPerDay + 5
	var wg sync.WaitGroup
	codes := make(chan string, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := roundTrip(api.request(f.OwnerA, mutInvite, map[string]any{"s": f.SellerA.ID,
				"email": fmt.Sprintf("hire%d@members.example", i), "r": "STAFF"}))
			if err != nil {
				codes <- err.Error()
				return
			}
			codes <- strings.Join(r.Codes(), ",")
		}()
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	if count[""] != store.MaxInvitationsPerDay || count["RATE_LIMITED"] != tries-store.MaxInvitationsPerDay {
		t.Errorf("outcomes %v of %d concurrent invitations, want %d sent and the rest RATE_LIMITED", count, tries, store.MaxInvitationsPerDay)
	}
	// Invitations older than a day no longer count.
	api.DB.MustExec(`UPDATE seller_invitations SET created_at = now() - interval '25 hours'`)
	if r := api.post(f.OwnerA, mutInvite, map[string]any{"s": f.SellerA.ID, "email": "tomorrow@members.example", "r": "STAFF"}); len(r.Errors) > 0 {
		t.Errorf("an invitation a day later: %s", r.Raw)
	}
}

func TestRemoveSellerMember(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	remove := func(token, subject string) gqlResponse {
		return api.post(token, mutRemove, map[string]any{"s": f.SellerA.ID, "sub": subject})
	}
	t.Run("refusals", func(t *testing.T) {
		for name, tc := range map[string]struct{ token, subject, code string }{
			"unknown member":   {f.OwnerA, "nobody", "NOT_FOUND"},
			"blank subject":    {f.OwnerA, " ", "BAD_USER_INPUT"},
			"other seller":     {f.TokenB, "staff-a", "NOT_FOUND"},
			"user":             {f.User, "staff-a", "FORBIDDEN"},
			"last owner":       {f.OwnerA, "owner-a", "BAD_USER_INPUT"},
			"admin last owner": {f.Admin, "owner-a", "BAD_USER_INPUT"},
		} {
			if got := codeOf(remove(tc.token, tc.subject)); got != tc.code {
				t.Errorf("%s: %s, want %s", name, got, tc.code)
			}
		}
	})
	t.Run("the owner removes staff, who is then a user", func(t *testing.T) {
		if r := api.mustPost(f.StaffA, qViewer, nil); r.Get("viewer.role") != "SELLER" {
			t.Fatalf("staff before removal: %s", r.Raw)
		}
		r := api.mustPost(f.OwnerA, mutRemove, map[string]any{"s": f.SellerA.ID, "sub": "staff-a"})
		if got := fmt.Sprint(r.Get("removeSellerMember.seller.members")); strings.Contains(got, "staff-a") {
			t.Errorf("members after removal: %s", got)
		}
		if r := api.mustPost(f.StaffA, qViewer, nil); r.Get("viewer.role") != "USER" || r.Get("viewer.seller") != nil {
			t.Errorf("removed staff: %s, want a USER of no seller", r.Raw)
		}
	})
	t.Run("two owners removing each other leave one", func(t *testing.T) {
		second := api.mustMember(f.SellerA.ID, "owner-a2", store.MemberOwner)
		var wg sync.WaitGroup
		for _, c := range []struct{ token, subject string }{{f.OwnerA, "owner-a2"}, {second, "owner-a"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = roundTrip(api.request(c.token, mutRemove, map[string]any{"s": f.SellerA.ID, "sub": c.subject}))
			}()
		}
		wg.Wait()
		owners := 0
		for _, role := range api.membersOf(f.Admin, f.SellerA.ID) {
			if role == "OWNER" {
				owners++
			}
		}
		if owners != 1 {
			t.Errorf("%d owners left, want 1", owners)
		}
	})
}

// TestSignedInRequestStatements: a signed-in person's membership is looked
// up once and then cached, so their requests cost what a seller token's and
// an anonymous caller's do.
func TestSignedInRequestStatements(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const q = `query($id: ID!) { seller(id: $id) { id companyName } }`
	vars := map[string]any{"id": f.SellerA.ID}
	count := func(id, token string) int {
		t.Helper()
		if r := api.postWithID(id, token, q, vars); len(r.Errors) > 0 {
			t.Fatalf("%s: %s", id, r.Raw)
		}
		return api.statementsOf(id)
	}
	user := api.userToken("statement-user")
	// The fixture's memberships are announced on commit; once that
	// announcement is in, nothing else drops the cached lookups below.
	time.Sleep(200 * time.Millisecond)
	firstUser, firstOwner := count("user-first", user), count("owner-first", f.OwnerA)
	anon, sellerToken := count("anonymous", ""), count("seller-token", f.TokenA)
	userAgain, ownerAgain := count("user-again", user), count("owner-again", f.OwnerA)
	if userAgain != anon {
		t.Errorf("a user's cached request: %d statements, an anonymous one %d; want equal", userAgain, anon)
	}
	if ownerAgain != sellerToken {
		t.Errorf("a member's cached request: %d statements, a seller token's %d; want equal", ownerAgain, sellerToken)
	}
	if firstUser != userAgain+1 || firstOwner != ownerAgain+1 {
		t.Errorf("first requests: user %d, owner %d; want one lookup more than %d and %d", firstUser, firstOwner, userAgain, ownerAgain)
	}
	t.Logf("statements: anonymous %d, user %d (first %d), seller token %d, owner member %d (first %d)",
		anon, userAgain, firstUser, sellerToken, ownerAgain, firstOwner)
}

// TestRevokeSessionsAcrossInstances: an admin revokes a subject through
// one instance; the other refuses its older tokens with 401 and closes its
// open subscription with 4401, while a token issued afterwards works.
func TestRevokeSessionsAcrossInstances(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	second := newTestAPIOn(t, first)
	sub := second.subscriber(f.OwnerA, f.SellerA.ID, f.LeadA)
	if r := second.post(f.OwnerA, qViewer, nil); r.Status != http.StatusOK || r.Get("viewer.membership.role") != "OWNER" {
		t.Fatalf("before revocation: %s", r.Raw)
	}
	if got := codeOf(first.post(f.OwnerA, mutRevoke, map[string]any{"sub": "owner-a"})); got != "FORBIDDEN" {
		t.Errorf("revokeSessions by a seller: %s, want FORBIDDEN", got)
	}
	if r := first.post(f.Admin, mutRevoke, map[string]any{"sub": " "}); codeOf(r) != "BAD_USER_INPUT" || r.Errors[0].Field() != "subject" {
		t.Errorf("blank subject: %s", r.Raw)
	}
	start := time.Now()
	r := first.mustPost(f.Admin, mutRevoke, map[string]any{"sub": "owner-a"})
	if r.Get("revokeSessions.revokedBefore") == nil {
		t.Fatalf("no revokedBefore: %s", r.Raw)
	}
	if got := first.post(f.OwnerA, qViewer, nil); got.Status != http.StatusUnauthorized || codeOf(got) != "UNAUTHENTICATED" {
		t.Errorf("the revoking instance: status %d %s, want 401 UNAUTHENTICATED", got.Status, got.Raw)
	}
	sub.closedWith(websocket.StatusCode(4401))
	notifyWaitFor(t, liveWait, "401 from the second instance", func() bool {
		return second.post(f.OwnerA, qViewer, nil).Status == http.StatusUnauthorized
	})
	t.Logf("second instance refused the revoked token %v after the revocation", time.Since(start))
	if got := second.post(f.StaffA, qViewer, nil); got.Status != http.StatusOK {
		t.Errorf("another subject's token: status %d, want 200", got.Status)
	}
	// iat has whole seconds: a token of the next second is newer.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	fresh := first.userToken("owner-a")
	if got := second.post(fresh, qViewer, nil); got.Status != http.StatusOK || got.Get("viewer.membership.role") != "OWNER" {
		t.Errorf("a token issued after the revocation: status %d %s", got.Status, got.Raw)
	}
}

// TestMemberSubscriptionClosesOnSuspension: a member's live inbox closes
// with 4401 when its seller is suspended, as a seller token's closes with
// 4403.
func TestMemberSubscriptionClosesOnSuspension(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	member := api.subscriber(f.StaffA, f.SellerA.ID, f.LeadA)
	token := api.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)
	if _, err := api.Store.SetSellerStatus(context.Background(), f.SellerA.ID, store.SellerSuspended); err != nil {
		t.Fatal(err)
	}
	member.closedWith(websocket.StatusCode(4401))
	token.closedWith(websocket.StatusCode(4403))
	if got := api.post(f.StaffA, qViewer, nil); got.Status != http.StatusUnauthorized {
		t.Errorf("a member of a suspended seller: status %d, want 401", got.Status)
	}
}

// TestMembershipChangeAcrossInstances: a member removed through one
// instance is a plain user at the other, whose cached membership the
// database's announcement dropped, and its open subscription there closes
// with 4401.
func TestMembershipChangeAcrossInstances(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	second := newTestAPIOn(t, first)
	if r := second.mustPost(f.StaffA, qViewer, nil); r.Get("viewer.membership.role") != "STAFF" {
		t.Fatalf("staff before removal: %s", r.Raw) // now cached in the second instance
	}
	sub := second.subscriber(f.StaffA, f.SellerA.ID, f.LeadA)
	first.mustPost(f.OwnerA, mutRemove, map[string]any{"s": f.SellerA.ID, "sub": "staff-a"})
	sub.closedWith(websocket.StatusCode(4401))
	notifyWaitFor(t, liveWait, "the second instance to see the removal", func() bool {
		return second.mustPost(f.StaffA, qViewer, nil).Get("viewer.role") == "USER"
	})
	r := second.post(f.StaffA, `query($id: ID!) { seller(id: $id) { leads { totalCount } } }`, map[string]any{"id": f.SellerA.ID})
	if codeOf(r) != "FORBIDDEN" {
		t.Errorf("the removed member reads the seller's leads: %s", r.Raw)
	}
}

// TestSellerMembersAreBatched: the members of a page of sellers cost one
// statement, however many sellers the page has.
func TestSellerMembersAreBatched(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	api.mustMember(f.SellerB.ID, "owner-b", store.MemberOwner)
	const q = `query($first: Int) { sellers(first: $first) { nodes { id members { subject role } } } }`
	counts := map[int]int{}
	for _, first := range []int{1, 3} {
		id := fmt.Sprintf("members-batched-%d", first)
		r := api.postWithID(id, f.Admin, q, map[string]any{"first": first})
		if len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		counts[first] = api.statementsOf(id)
	}
	if counts[1] != counts[3] {
		t.Errorf("statements: %d for 1 seller, %d for 3; members are read per seller", counts[1], counts[3])
	}
}
