-- Control plane for a single relay: bans and peer scores. Times are Unix milliseconds;
-- address matching happens in memory (the in-process index), so targets are plain text.

CREATE TABLE control_bans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('ip', 'cidr', 'peer')),
    target      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);

CREATE INDEX control_bans_target ON control_bans (target);
CREATE INDEX control_bans_expires ON control_bans (expires_at);

CREATE TABLE control_scores (
    peer        TEXT PRIMARY KEY,
    score       REAL    NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE control_score_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    peer   TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    event  TEXT    NOT NULL,
    delta  REAL    NOT NULL,
    score  REAL    NOT NULL
);

CREATE INDEX control_score_events_peer ON control_score_events (peer, id DESC);
CREATE INDEX control_score_events_at ON control_score_events (at);

-- A version bumped by every change to bans: an index built at the current version can skip
-- the periodic full reload.
CREATE TABLE control_meta (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    bans_version  INTEGER NOT NULL
);
INSERT INTO control_meta (id, bans_version) VALUES (1, 0);

CREATE TRIGGER control_bans_bump_insert AFTER INSERT ON control_bans
BEGIN
    UPDATE control_meta SET bans_version = bans_version + 1;
END;
CREATE TRIGGER control_bans_bump_update AFTER UPDATE ON control_bans
BEGIN
    UPDATE control_meta SET bans_version = bans_version + 1;
END;
CREATE TRIGGER control_bans_bump_delete AFTER DELETE ON control_bans
BEGIN
    UPDATE control_meta SET bans_version = bans_version + 1;
END;
