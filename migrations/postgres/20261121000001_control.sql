-- Control plane: bans (IP / CIDR / peer id) and peer scores, shared by every relay of a fleet.

CREATE TABLE control_bans (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT        NOT NULL CHECK (kind IN ('ip', 'cidr', 'peer')),
    -- canonical text form of the target ("1.2.3.4", "10.0.0.0/8", "12D3Koo...")
    target      TEXT        NOT NULL,
    -- the network for ip/cidr bans (an IP is a /32 or /128), NULL for peer bans
    net         CIDR,
    reason      TEXT        NOT NULL,
    created_by  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    CHECK ((kind = 'peer') = (net IS NULL))
);

-- serves "which bans contain this address" (net >>= $ip)
CREATE INDEX control_bans_net ON control_bans USING gist (net inet_ops);
CREATE INDEX control_bans_target ON control_bans (target);
CREATE INDEX control_bans_expires ON control_bans (expires_at);

-- Every change is announced so the other relays refresh their index within a second.
CREATE FUNCTION control_bans_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('wharf_control_bans', 'd:' || OLD.id);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('wharf_control_bans', 'u:' || NEW.id);
    RETURN NEW;
END;
$$;

CREATE TRIGGER control_bans_notify AFTER INSERT OR UPDATE OR DELETE ON control_bans
    FOR EACH ROW EXECUTE FUNCTION control_bans_notify();

CREATE FUNCTION control_bans_notify_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wharf_control_bans', 'c');
    RETURN NULL;
END;
$$;

CREATE TRIGGER control_bans_notify_clear AFTER TRUNCATE ON control_bans
    FOR EACH STATEMENT EXECUTE FUNCTION control_bans_notify_clear();

CREATE TABLE control_scores (
    peer        TEXT PRIMARY KEY,
    score       DOUBLE PRECISION NOT NULL,
    updated_at  TIMESTAMPTZ      NOT NULL
);

CREATE TABLE control_score_events (
    id     BIGSERIAL PRIMARY KEY,
    peer   TEXT             NOT NULL,
    at     TIMESTAMPTZ      NOT NULL,
    event  TEXT             NOT NULL,
    delta  DOUBLE PRECISION NOT NULL,
    score  DOUBLE PRECISION NOT NULL
);

CREATE INDEX control_score_events_peer ON control_score_events (peer, id DESC);
CREATE INDEX control_score_events_at ON control_score_events (at);

-- A version bumped by every statement that changes bans: a relay whose index was built at the
-- current version can skip the periodic full reload.
CREATE TABLE control_meta (
    id            BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    bans_version  BIGINT  NOT NULL
);
INSERT INTO control_meta (bans_version) VALUES (0);

CREATE FUNCTION control_bans_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE control_meta SET bans_version = bans_version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER control_bans_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON control_bans
    FOR EACH STATEMENT EXECUTE FUNCTION control_bans_bump();
