package store

import "time"

// EventType is what a buyer did on the site.
type EventType string

// Event types.
const (
	EventListingView EventType = "LISTING_VIEW"
	EventCallClick   EventType = "CALL_CLICK"
	EventTextClick   EventType = "TEXT_CLICK"
	EventEmailClick  EventType = "EMAIL_CLICK"
)

// MetricDimension is a dimension marketplace metrics group by.
type MetricDimension string

// Metric dimensions.
const (
	DimensionDay       MetricDimension = "DAY"
	DimensionWeek      MetricDimension = "WEEK"
	DimensionMonth     MetricDimension = "MONTH"
	DimensionSeller    MetricDimension = "SELLER"
	DimensionCategory  MetricDimension = "CATEGORY"
	DimensionRegion    MetricDimension = "REGION"
	DimensionEventType MetricDimension = "EVENT_TYPE"
)

// Event is one raw event: a listing view or a click on a contact channel.
// IPHash is a keyed hash of the client IP, never the IP.
type Event struct {
	ID         string    `db:"id"`
	Type       EventType `db:"type"`
	ListingID  *string   `db:"listing_id"`
	SellerID   string    `db:"seller_id"`
	SessionID  *string   `db:"session_id"`
	SourcePage *string   `db:"source_page"`
	UserAgent  *string   `db:"user_agent"`
	IPHash     *string   `db:"ip_hash"`
	CreatedAt  time.Time `db:"created_at"`
}

// EventFilter narrows the raw events query.
type EventFilter struct {
	Type      *EventType
	ListingID *string
	SellerID  *string
	SessionID *string
	From      *time.Time
	To        *time.Time
}

// EventQuery is a whole question about raw events, without its page.
type EventQuery struct {
	Filter EventFilter
}

// ListingStats are a listing's rolled-up counts over a period.
type ListingStats struct {
	Views       int `db:"views"`
	CallClicks  int `db:"call_clicks"`
	TextClicks  int `db:"text_clicks"`
	EmailClicks int `db:"email_clicks"`
	Leads       int `db:"leads"`
}

// SellerPerformance are a seller's rolled-up counts over a period.
type SellerPerformance struct {
	ListingStats
	Reports int `db:"reports"`
	// ConversionRate is Leads / Views, 0 without views.
	ConversionRate float64
}

// SearchTermStat is how often a normalised term was searched.
type SearchTermStat struct {
	Term            string    `db:"term"`
	Count           int       `db:"count"`
	ZeroResultCount int       `db:"zero_result_count"`
	LastSeenAt      time.Time `db:"last_seen_at"`
}

// MetricFilter narrows marketplace metrics.
type MetricFilter struct {
	SellerID  *string
	Category  *string
	Region    *string
	EventType *EventType
}

// MetricRow is one group of marketplace metrics; only the dimensions grouped
// by are set.
type MetricRow struct {
	Day       *time.Time `db:"day"`
	SellerID  *string    `db:"seller_id"`
	Category  *string    `db:"category"`
	Region    *string    `db:"region"`
	EventType *EventType `db:"event_type"`
	ListingStats
}
