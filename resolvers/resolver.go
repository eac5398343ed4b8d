// Package resolvers implements the fields of schema.graphql: thin functions
// from arguments to store and loader calls and back to payloads. Access rules
// of reads live in the schema's directives and the store's scopes; writes
// check ownership here, where the argument names the row.
package resolvers

import (
	"context"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/pubsub"
	"github.com/partsmarket/gateway/store"
)

// AbuseLimiter is the rate limit of the anonymous write paths (see
// abuse.Limiter): each call counts one attempt and returns RATE_LIMITED when
// a limit is spent.
type AbuseLimiter interface {
	Lead(ctx context.Context, ip, email string) error
	Report(ctx context.Context, ip, email string) error
}

// Resolver is the root of every resolver; it holds their dependencies.
type Resolver struct {
	Store   *store.Store
	Captcha abuse.Captcha
	// Limiter counts submitLead and reportListing attempts per client IP
	// and email (abuse.Limiter); nil: no limits.
	Limiter AbuseLimiter
	// LiveLeads streams new leads to leadReceived subscribers.
	LiveLeads *pubsub.Hub
	// Imports queues inventory import files (see imports.go).
	Imports Importer
	// Media keeps uploaded listing images (see media.go); MediaMaxBytes
	// bounds one image.
	Media         MediaFiles
	MediaMaxBytes int64
	// Events checks and queues recordEvent's events (events.Ingestor).
	Events EventRecorder
	// Identities learns at once of the memberships and revocations this
	// instance changes (see members.go); nil: only from the database's
	// announcements.
	Identities Identities
}

// Query returns the resolvers of the Query type.
func (r *Resolver) Query() graph.QueryResolver { return &queryResolver{r} }

// Mutation returns the resolvers of the Mutation type.
func (r *Resolver) Mutation() graph.MutationResolver { return &mutationResolver{r} }

// Viewer returns the resolvers of the Viewer type.
func (r *Resolver) Viewer() graph.ViewerResolver { return &viewerResolver{r} }

// Seller returns the resolvers of the Seller type.
func (r *Resolver) Seller() graph.SellerResolver { return &sellerResolver{r} }

// Listing returns the resolvers of the Listing type.
func (r *Resolver) Listing() graph.ListingResolver { return &listingResolver{r} }

// Lead returns the resolvers of the Lead type.
func (r *Resolver) Lead() graph.LeadResolver { return &leadResolver{r} }

// ListingReport returns the resolvers of the ListingReport type.
func (r *Resolver) ListingReport() graph.ListingReportResolver { return &listingReportResolver{r} }

// ListingConnection returns the resolvers of the ListingConnection type.
func (r *Resolver) ListingConnection() graph.ListingConnectionResolver {
	return &listingConnectionResolver{r}
}

// SellerConnection returns the resolvers of the SellerConnection type.
func (r *Resolver) SellerConnection() graph.SellerConnectionResolver {
	return &sellerConnectionResolver{r}
}

// LeadConnection returns the resolvers of the LeadConnection type.
func (r *Resolver) LeadConnection() graph.LeadConnectionResolver { return &leadConnectionResolver{r} }

// ListingReportConnection returns the resolvers of the ListingReportConnection type.
func (r *Resolver) ListingReportConnection() graph.ListingReportConnectionResolver {
	return &listingReportConnectionResolver{r}
}

// LeadNotification returns the resolvers of the LeadNotification type.
func (r *Resolver) LeadNotification() graph.LeadNotificationResolver {
	return &leadNotificationResolver{r}
}

// LeadNotificationConnection returns the resolvers of the
// LeadNotificationConnection type.
func (r *Resolver) LeadNotificationConnection() graph.LeadNotificationConnectionResolver {
	return &leadNotificationConnectionResolver{r}
}

type (
	leadNotificationResolver           struct{ *Resolver }
	leadNotificationConnectionResolver struct{ *Resolver }
	queryResolver                      struct{ *Resolver }
	mutationResolver                   struct{ *Resolver }
	viewerResolver                     struct{ *Resolver }
	sellerResolver                     struct{ *Resolver }
	listingResolver                    struct{ *Resolver }
	leadResolver                       struct{ *Resolver }
	listingReportResolver              struct{ *Resolver }
	listingConnectionResolver          struct{ *Resolver }
	sellerConnectionResolver           struct{ *Resolver }
	leadConnectionResolver             struct{ *Resolver }
	listingReportConnectionResolver    struct{ *Resolver }
)
