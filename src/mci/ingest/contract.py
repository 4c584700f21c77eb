"""The source contract: the columns of a campaign-performance export and their canonical names.

The contract is the Kaggle "Marketing Campaign Performance" export (see DESIGN.md). Headers are
matched exactly after trimming white space and a UTF-8 byte-order mark; renamed headers are
mapped with ``--rename OLD=NEW``.

Example:
    >>> SOURCE_TO_CANONICAL["Acquisition_Cost"]
    'spend'
    >>> len(SOURCE_COLUMNS)
    16
"""

from __future__ import annotations

SOURCE_COLUMNS: tuple[str, ...] = (
    "Campaign_ID",
    "Company",
    "Campaign_Type",
    "Target_Audience",
    "Duration",
    "Channel_Used",
    "Conversion_Rate",
    "Acquisition_Cost",
    "ROI",
    "Location",
    "Language",
    "Clicks",
    "Impressions",
    "Engagement_Score",
    "Customer_Segment",
    "Date",
)

CANONICAL_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "company",
    "campaign_type",
    "target_audience",
    "duration_days",
    "channel",
    "conversion_rate",
    "spend",
    "roi",
    "location",
    "language",
    "clicks",
    "impressions",
    "engagement_score",
    "customer_segment",
    "date",
)

SOURCE_TO_CANONICAL: dict[str, str] = dict(zip(SOURCE_COLUMNS, CANONICAL_COLUMNS, strict=True))

CATEGORY_COLUMNS: tuple[str, ...] = (
    "company",
    "campaign_type",
    "target_audience",
    "channel",
    "location",
    "language",
    "customer_segment",
)

# Category values of the genuine export; a value outside these still loads and is reported as new.
KNOWN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "company": (
        "Alpha Innovations",
        "DataTech Solutions",
        "Innovate Industries",
        "NexGen Systems",
        "TechCorp",
    ),
    "campaign_type": ("Display", "Email", "Influencer", "Search", "Social Media"),
    "target_audience": ("All Ages", "Men 18-24", "Men 25-34", "Women 25-34", "Women 35-44"),
    "channel": ("Email", "Facebook", "Google Ads", "Instagram", "Website", "YouTube"),
    "location": ("Chicago", "Houston", "Los Angeles", "Miami", "New York"),
    "language": ("English", "French", "German", "Mandarin", "Spanish"),
    "customer_segment": (
        "Fashionistas",
        "Foodies",
        "Health & Wellness",
        "Outdoor Adventurers",
        "Tech Enthusiasts",
    ),
}

# Ranges of the genuine export (every column is uniform over these).
REAL_RANGES: dict[str, tuple[float, float]] = {
    "conversion_rate": (0.01, 0.15),
    "spend": (5_000.0, 20_000.0),
    "roi": (2.0, 8.0),
    "clicks": (100, 1_000),
    "impressions": (1_000, 10_000),
    "engagement_score": (1, 10),
}
DURATIONS_DAYS: tuple[int, ...] = (15, 30, 45, 60)

# raw_campaign_rows keeps the source's own column names (lower-cased), as text.
RAW_COLUMNS: tuple[str, ...] = tuple(c.lower() for c in SOURCE_COLUMNS)
SOURCE_TO_RAW: dict[str, str] = dict(zip(SOURCE_COLUMNS, RAW_COLUMNS, strict=True))

# Sane ranges, per typed column: a value outside is quarantined as ``out_of_range`` (bounds
# inclusive). The genuine export sits far inside every one (``REAL_RANGES``); the bounds catch
# what no campaign row can hold (a typo, a unit slip, an overflow, ``1e308``) before it reaches
# a KPI, while leaving a hundred-fold margin over anything a real export holds.
# - conversion_rate: a rate, 0 to 1 by definition.
# - spend: 0 to 1e12 (a trillion: about the world's yearly ad spend, so no single campaign
#   row comes near it; 2 million such rows still sum exactly in a double).
# - roi: -1,000 to 1,000 (net return per unit of spend: -1 loses the whole spend, the genuine
#   export runs from 2 to 8; a thousand-fold return on a campaign row is a typo).
# - clicks, impressions: 0 to 1e12 (more than a hundred impressions for every person alive;
#   sums of millions of rows stay inside a 64-bit integer).
# - engagement_score: 1 to 10, the score's own scale.
# - duration_days: 1 to 3,660 (ten years; the genuine export has 15 to 60 days).
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "conversion_rate": (0.0, 1.0),
    "spend": (0.0, 1e12),
    "roi": (-1_000.0, 1_000.0),
    "clicks": (0, 10**12),
    "impressions": (0, 10**12),
    "engagement_score": (1, 10),
    "duration_days": (1, 3_660),
}
# Dates a campaign row may carry: online advertising began in 1994; a year past 2099 is a typo
# (and would stretch every trend chart over centuries).
DATE_RANGE: tuple[str, str] = ("1990-01-01", "2099-12-31")

# Text encodings the ingest reads (``encoding=``); other files are re-encoded to UTF-8 first.
ENCODINGS: tuple[str, ...] = ("utf-8", "latin-1", "cp1252")

# Reason codes of quarantined rows (see mci.ingest.rules for the checks behind them).
REASON_CODES: tuple[str, ...] = (
    "wrong_field_count",
    "bad_encoding",
    "malformed_line",
    "missing_value",
    "bad_money",
    "bad_date",
    "bad_number",
    "negative_value",
    "out_of_range",
    "clicks_exceed_impressions",
    "conflicting_duplicate",
)

# Lines the CSV reader could not split into the header's fields, by the reader's error type
# (``UNTERMINATED QUOTE`` is the ingest's own: a line that leaves a quote open).
REJECT_REASONS: dict[str, str] = {
    "TOO MANY COLUMNS": "wrong_field_count",
    "MISSING COLUMNS": "wrong_field_count",
    "INVALID UNICODE": "bad_encoding",
    "UNQUOTED VALUE": "malformed_line",
    "UNTERMINATED QUOTE": "malformed_line",
}
REJECT_FALLBACK_REASON = "malformed_line"
