package store

import "time"

// SellerStatus is a seller's standing with the marketplace.
type SellerStatus string

// Seller statuses.
const (
	SellerPending   SellerStatus = "PENDING"
	SellerActive    SellerStatus = "ACTIVE"
	SellerSuspended SellerStatus = "SUSPENDED"
)

// ContactKind is a channel buyers use to reach a seller.
type ContactKind string

// Contact kinds.
const (
	ContactPhone ContactKind = "PHONE"
	ContactText  ContactKind = "TEXT"
	ContactEmail ContactKind = "EMAIL"
)

// ListingCondition is the state of a listed part.
type ListingCondition string

// Listing conditions.
const (
	ConditionNew            ListingCondition = "NEW"
	ConditionUsed           ListingCondition = "USED"
	ConditionRemanufactured ListingCondition = "REMANUFACTURED"
	ConditionForParts       ListingCondition = "FOR_PARTS"
)

// ListingStatus is where a listing is in its life.
type ListingStatus string

// Listing statuses. Only ACTIVE listings of ACTIVE sellers are public.
const (
	ListingDraft   ListingStatus = "DRAFT"
	ListingActive  ListingStatus = "ACTIVE"
	ListingPaused  ListingStatus = "PAUSED"
	ListingSold    ListingStatus = "SOLD"
	ListingRemoved ListingStatus = "REMOVED"
)

// ListingSort orders a list of listings.
type ListingSort string

// Listing sorts.
const (
	SortRelevance ListingSort = "RELEVANCE"
	SortNewest    ListingSort = "NEWEST"
	SortPriceAsc  ListingSort = "PRICE_ASC"
	SortPriceDesc ListingSort = "PRICE_DESC"
)

// LeadStatus is where a lead is in the seller's inbox workflow.
type LeadStatus string

// Lead statuses.
const (
	LeadNew       LeadStatus = "NEW"
	LeadContacted LeadStatus = "CONTACTED"
	LeadQualified LeadStatus = "QUALIFIED"
	LeadWon       LeadStatus = "WON"
	LeadLost      LeadStatus = "LOST"
	LeadSpam      LeadStatus = "SPAM"
)

// ReportReason is why someone reported a listing.
type ReportReason string

// Report reasons.
const (
	ReasonScam        ReportReason = "SCAM"
	ReasonWrongInfo   ReportReason = "WRONG_INFO"
	ReasonAlreadySold ReportReason = "ALREADY_SOLD"
	ReasonDuplicate   ReportReason = "DUPLICATE"
	ReasonOffensive   ReportReason = "OFFENSIVE"
	ReasonOther       ReportReason = "OTHER"
)

// ReportStatus is where a report is in the moderation queue.
type ReportStatus string

// Report statuses.
const (
	ReportOpen      ReportStatus = "OPEN"
	ReportDismissed ReportStatus = "DISMISSED"
	ReportActioned  ReportStatus = "ACTIONED"
)

// Seller is a company that publishes listings.
type Seller struct {
	ID                string       `db:"id"`
	Slug              string       `db:"slug"`
	CompanyName       string       `db:"company_name"`
	Description       *string      `db:"description"`
	Website           *string      `db:"website"`
	Status            SellerStatus `db:"status"`
	Verified          bool         `db:"verified"`
	VerificationNotes *string      `db:"verification_notes"`
	InternalNotes     *string      `db:"internal_notes"`
	CreatedAt         time.Time    `db:"created_at"`
	UpdatedAt         time.Time    `db:"updated_at"`
}

// OwnerID returns the seller's own id: a seller owns itself.
func (s *Seller) OwnerID() string { return s.ID }

// SellerContact is one public channel of a seller.
type SellerContact struct {
	ID       string      `db:"id"`
	SellerID string      `db:"seller_id"`
	Kind     ContactKind `db:"kind"`
	Value    string      `db:"value"`
	Label    *string     `db:"label"`
}

// SellerLocation is a place a seller keeps parts.
type SellerLocation struct {
	ID         string  `db:"id"`
	SellerID   string  `db:"seller_id"`
	City       string  `db:"city"`
	Region     *string `db:"region"`
	Country    string  `db:"country"`
	PostalCode *string `db:"postal_code"`
}

// Listing is a part a seller offers.
type Listing struct {
	ID             string           `db:"id"`
	SellerID       string           `db:"seller_id"`
	LocationID     *string          `db:"location_id"`
	Title          string           `db:"title"`
	Description    *string          `db:"description"`
	PartNumber     *string          `db:"part_number"`
	SKU            *string          `db:"sku"`
	Brand          *string          `db:"brand"`
	Category       *string          `db:"category"`
	Condition      ListingCondition `db:"condition"`
	Quantity       *int             `db:"quantity"`
	PriceLabel     *string          `db:"price_label"`
	PriceCents     *int             `db:"price_cents"`
	Currency       *string          `db:"currency"`
	Status         ListingStatus    `db:"status"`
	RemovalReason  *string          `db:"removal_reason"`
	ModerationNote *string          `db:"moderation_note"`
	CreatedAt      time.Time        `db:"created_at"`
	UpdatedAt      time.Time        `db:"updated_at"`
}

// OwnerID returns the id of the listing's seller.
func (l *Listing) OwnerID() string { return l.SellerID }

// Media is an image of a listing.
type Media struct {
	ID          string    `db:"id"`
	ListingID   string    `db:"listing_id"`
	URL         string    `db:"url"`
	AltText     *string   `db:"alt_text"`
	Position    int       `db:"position"`
	ContentType *string   `db:"content_type"`
	CreatedAt   time.Time `db:"created_at"`
}

// Lead is a buyer's inquiry to a seller, about a listing or in general.
// BuyerName, Email, Phone, Company and Message are the buyer's personal data,
// stored encrypted (see LeadPII) and decrypted by the store as it reads; an
// anonymised lead shows Erased for the name, email and message.
type Lead struct {
	ID            string     `db:"id"`
	SellerID      string     `db:"seller_id"`
	ListingID     *string    `db:"listing_id"`
	BuyerName     string     `db:"-"`
	Email         string     `db:"-"`
	Phone         *string    `db:"-"`
	Company       *string    `db:"-"`
	Message       string     `db:"-"`
	BuyerLocation *string    `db:"buyer_location"`
	Timeline      *string    `db:"timeline"`
	SourcePage    *string    `db:"source_page"`
	Status        LeadStatus `db:"status"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	// AnonymizedAt is when the buyer's personal data were erased (a privacy
	// request or retention); nil while they are kept.
	AnonymizedAt *time.Time `db:"anonymized_at"`
}

// OwnerID returns the id of the seller the lead was sent to.
func (l *Lead) OwnerID() string { return l.SellerID }

// ListingReport is someone's report that a listing is wrong or abusive.
// ReporterEmail is the reporter's personal data, stored encrypted and
// decrypted by the store as it reads; Erased once anonymised.
type ListingReport struct {
	ID             string       `db:"id"`
	ListingID      string       `db:"listing_id"`
	SellerID       string       `db:"seller_id"`
	Reason         ReportReason `db:"reason"`
	Details        *string      `db:"details"`
	ReporterEmail  *string      `db:"-"`
	Status         ReportStatus `db:"status"`
	ResolutionNote *string      `db:"resolution_note"`
	CreatedAt      time.Time    `db:"created_at"`
	ResolvedAt     *time.Time   `db:"resolved_at"`
	// AnonymizedAt is when the reporter's email was erased (a privacy
	// request or retention); nil while it is kept or there was none.
	AnonymizedAt *time.Time `db:"anonymized_at"`
}

// OwnerID returns the id of the seller of the reported listing.
func (r *ListingReport) OwnerID() string { return r.SellerID }

// ImportStatus is where an import batch is in its life.
type ImportStatus string

// Import statuses.
const (
	ImportQueued    ImportStatus = "QUEUED"
	ImportRunning   ImportStatus = "RUNNING"
	ImportSucceeded ImportStatus = "SUCCEEDED"
	ImportPartial   ImportStatus = "PARTIAL"
	ImportFailed    ImportStatus = "FAILED"
)

// ImportMode says what an import does with listings missing from its file.
type ImportMode string

// Import modes.
const (
	ImportUpsert  ImportMode = "UPSERT"
	ImportReplace ImportMode = "REPLACE"
)

// ImportBatch is one uploaded file of listings and what became of its rows.
type ImportBatch struct {
	ID             string       `db:"id"`
	SellerID       string       `db:"seller_id"`
	Mode           ImportMode   `db:"mode"`
	Status         ImportStatus `db:"status"`
	FileKey        string       `db:"file_key"`
	FileName       *string      `db:"file_name"`
	TotalRows      int          `db:"total_rows"`
	CreatedCount   int          `db:"created_count"`
	UpdatedCount   int          `db:"updated_count"`
	UnchangedCount int          `db:"unchanged_count"`
	FailedCount    int          `db:"failed_count"`
	Failure        *string      `db:"failure"`
	StartedAt      *time.Time   `db:"started_at"`
	FinishedAt     *time.Time   `db:"finished_at"`
	CreatedAt      time.Time    `db:"created_at"`
}

// ImportRowError is why one row of an import was refused.
type ImportRowError struct {
	ID      int64   `db:"id"`
	BatchID string  `db:"batch_id"`
	Row     int     `db:"row_number"`
	Column  *string `db:"column_name"`
	Message string  `db:"message"`
}

// NotificationStatus is where a lead's email to its seller is.
type NotificationStatus string

// Notification statuses.
const (
	NotificationPending NotificationStatus = "PENDING"
	NotificationSent    NotificationStatus = "SENT"
	NotificationFailed  NotificationStatus = "FAILED"
)

// LeadNotification is the delivery record of a lead's email to its seller.
type LeadNotification struct {
	LeadID        string             `db:"lead_id"`
	Status        NotificationStatus `db:"status"`
	Attempts      int                `db:"attempts"`
	NextAttemptAt time.Time          `db:"next_attempt_at"`
	LastAttemptAt *time.Time         `db:"last_attempt_at"`
	LastError     *string            `db:"last_error"`
	SentAt        *time.Time         `db:"sent_at"`
	CreatedAt     time.Time          `db:"created_at"`
}

// LeadStatusChange records one change of a lead's status.
type LeadStatusChange struct {
	ID        int64      `db:"id"`
	LeadID    string     `db:"lead_id"`
	From      LeadStatus `db:"from_status"`
	To        LeadStatus `db:"to_status"`
	ActorID   *string    `db:"actor_id"`
	ActorRole *string    `db:"actor_role"`
	At        time.Time  `db:"created_at"`
}

// ImportBatchQuery is a whole question about import batches, without its
// page.
type ImportBatchQuery struct {
	Scope    Scope
	SellerID *string
}

// Node is a row that the GraphQL Node interface returns: a *Seller,
// *Listing, *Lead, *ListingReport, *ImportBatch, *Media or *AuditEvent,
// each found by its id alone.
type Node any
