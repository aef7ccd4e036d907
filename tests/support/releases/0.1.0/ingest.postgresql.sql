CREATE TABLE ingest_contents (
	id VARCHAR(128) NOT NULL,
	version INTEGER NOT NULL,
	canonical_url VARCHAR(2000) NOT NULL,
	retracted BOOLEAN NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE ingest_idempotency (
	client VARCHAR(100) NOT NULL,
	key VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	status INTEGER NOT NULL,
	body TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (client, key)
);

CREATE TABLE ingest_outbox (
	id BIGSERIAL NOT NULL,
	topic VARCHAR(300) NOT NULL,
	key VARCHAR(128) NOT NULL,
	payload TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	refused TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_ingest_outbox_sent_at ON ingest_outbox (sent_at);
