-- pumpqi database schema. The version is stored in pumpqi_meta and checked on open.
CREATE TABLE pumpqi_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);

CREATE TABLE visits (
    visit_id VARCHAR NOT NULL,  -- unique: ingest checks ids set-based (no index to maintain)
    patient_id VARCHAR NOT NULL,
    visit_date DATE NOT NULL,
    visit_type VARCHAR NOT NULL,
    site VARCHAR NOT NULL,
    clinician VARCHAR,
    pump_model VARCHAR,
    reservoir_ml DOUBLE,
    drug VARCHAR,
    concentration_mg_ml DOUBLE,
    daily_dose_mg DOUBLE,
    daily_rate_ml DOUBLE,
    volume_added_ml DOUBLE,
    expected_residual_ml DOUBLE,
    actual_residual_ml DOUBLE,
    alarm_ml DOUBLE,
    next_refill_due DATE,
    indication VARCHAR,
    pain_nrs INTEGER,
    notes VARCHAR,
    id_derived BOOLEAN NOT NULL,
    source_file VARCHAR NOT NULL,
    source_line BIGINT NOT NULL,
    ingest_id INTEGER NOT NULL,
    pump_implant_date DATE  -- schema 3 (added last, as the migration does)
);

CREATE TABLE complications (
    report_id VARCHAR NOT NULL,  -- unique: ingest checks ids set-based
    patient_id VARCHAR NOT NULL,
    report_date DATE NOT NULL,
    complication VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    visit_id VARCHAR,
    site VARCHAR,
    severity VARCHAR,
    serious BOOLEAN,
    action VARCHAR,
    notes VARCHAR,
    id_derived BOOLEAN NOT NULL,
    source_file VARCHAR NOT NULL,
    source_line BIGINT NOT NULL,
    ingest_id INTEGER NOT NULL
);

CREATE TABLE quarantine (
    ingest_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    column_name VARCHAR,
    reason VARCHAR NOT NULL,
    raw_row VARCHAR
);

CREATE TABLE ingest_log (
    ingest_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_already_present BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    package_version VARCHAR NOT NULL
);

CREATE TABLE annotations (
    annotation_id INTEGER PRIMARY KEY,
    change_date DATE NOT NULL,
    description VARCHAR NOT NULL,
    rebase BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
