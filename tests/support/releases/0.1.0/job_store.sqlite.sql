CREATE TABLE jobs (
	id INTEGER NOT NULL,
	content_id VARCHAR(128) NOT NULL,
	version INTEGER NOT NULL,
	channel VARCHAR(32) NOT NULL,
	account VARCHAR(100) NOT NULL,
	operation VARCHAR(16) NOT NULL,
	state VARCHAR(20) NOT NULL,
	due_at DATETIME,
	attempt INTEGER NOT NULL,
	attempt_floor INTEGER NOT NULL,
	post TEXT,
	result TEXT,
	native BOOLEAN NOT NULL,
	error TEXT,
	note VARCHAR(500),
	retract_requested BOOLEAN NOT NULL,
	parked_version INTEGER,
	lease_owner VARCHAR(200),
	lease_expires_at DATETIME,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_jobs_delivery_version UNIQUE (content_id, version, channel, account)
);

CREATE INDEX ix_jobs_delivery ON jobs (content_id, channel, account);

CREATE INDEX ix_jobs_state_due ON jobs (state, due_at);

CREATE TABLE delivery_sequences (
	delivery_id VARCHAR(300) NOT NULL,
	last INTEGER NOT NULL,
	PRIMARY KEY (delivery_id)
);

CREATE TABLE outbox (
	id INTEGER NOT NULL,
	"key" VARCHAR(128) NOT NULL,
	payload TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	sent_at DATETIME,
	PRIMARY KEY (id)
);

CREATE INDEX ix_outbox_unsent ON outbox (sent_at, id);

CREATE TABLE accounts (
	channel VARCHAR(32) NOT NULL,
	name VARCHAR(100) NOT NULL,
	credentials TEXT NOT NULL,
	options TEXT NOT NULL,
	version INTEGER NOT NULL,
	parked_version INTEGER,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (channel, name)
);
