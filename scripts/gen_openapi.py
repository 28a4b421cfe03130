#!/usr/bin/env python3
"""Writes openapi/openapi.json, the admin API contract.

The document is data; this script only keeps it consistent (every error response, the bearer
scheme on every protected route). A Rust test fails when the router and the document disagree.
Run: python3 scripts/gen_openapi.py
"""
import json
import pathlib

ERR = {"$ref": "#/components/responses/Error"}


def errors(*codes):
    return {str(c): ERR for c in codes}


def op(summary, ok_schema, codes, params=None, body=None, secured=True, ok_code="200", desc=None):
    o = {"summary": summary, "operationId": summary.lower().replace(" ", "_").replace("'", ""),
         "responses": {ok_code: {"description": desc or "OK", "content": {"application/json": {"schema": ok_schema}}}}}
    o["responses"].update(errors(*codes))
    if params:
        o["parameters"] = params
    if body:
        o["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if secured:
        o["security"] = [{"bearer": []}]
    else:
        o["security"] = []
    return o


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


PEER_ID = {"name": "peer_id", "in": "path", "required": True,
           "description": "libp2p peer id (base58 multihash, e.g. 12D3KooW...); anything else is a 400.",
           "schema": {"type": "string", "pattern": "^[1-9A-HJ-NP-Za-km-z]{46,60}$"}}
OFFSET = {"name": "offset", "in": "query", "required": False, "description": "Items to skip.",
          "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807, "default": 0}}
LIMIT = {"name": "limit", "in": "query", "required": False, "description": "Page size.",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
READ = (400, 401, 403, 429, 503)
CLASS_HASH = {"name": "class_hash", "in": "path", "required": True,
              "description": "Contract class hash: 0x and 1 to 64 hex digits; anything else is a 400.",
              "schema": {"type": "string", "pattern": "^0[xX][0-9a-fA-F]{1,64}$"}}
BAN_ID = {"name": "id", "in": "path", "required": True,
          "description": "Ban id; negative for an automatic ban not yet stored (it can be removed); 0 is a 400.",
          "schema": {"type": "integer", "minimum": -9223372036854775807, "maximum": 9223372036854775807,
                     "not": {"const": 0}}}

paths = {
    "/healthz": {"get": op("Liveness", ref("Health"), (429,), secured=False, desc="The process is alive")},
    "/readyz": {"get": {**op("Readiness", ref("Ready"), (429,), secured=False, desc="Every dependency answers"),
                        }},
    "/openapi.json": {"get": op("OpenAPI document", {"type": "object"}, (429,), secured=False)},
    "/api/v1/node": {"get": op("Get node", ref("Node"), READ)},
    "/api/v1/peers": {"get": op("List peers", ref("PeerPage"), READ, params=[
        OFFSET, LIMIT,
        {"name": "direction", "in": "query", "required": False, "schema": {"type": "string", "enum": ["inbound", "outbound"]}},
        {"name": "agent", "in": "query", "required": False, "description": "Substring of the agent version.", "schema": {"type": "string"}},
        {"name": "protocol", "in": "query", "required": False, "description": "A protocol the peer announced.", "schema": {"type": "string"}},
    ])},
    "/api/v1/peers/{peer_id}": {"get": op("Get peer", ref("Peer"), READ + (404,), params=[PEER_ID])},
    "/api/v1/events": {"get": {
        "summary": "Live events", "operationId": "live_events", "security": [{"bearer": []}],
        "description": "Server-Sent Events. `event:` is the type (block_committed, peer_connected, "
                       "peer_disconnected, ban_added, ban_removed, ban_expired, peer_penalised, "
                       "peer_auto_banned, or lagged when the client fell behind); `data:` is the Event JSON. "
                       "At most api.max_event_subscribers streams are open at once: one more gets 503.",
        "responses": {"200": {"description": "An endless event stream",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      **errors(*READ)}}},
    "/api/v1/chain": {"get": op("Get chain", ref("Chain"), READ)},
    "/api/v1/blocks/{number}": {"get": op("Get block header", ref("BlockHeader"), READ + (404,), params=[
        {"name": "number", "in": "path", "required": True, "description": "Block number.",
         "schema": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}}])},
    "/api/v1/classes/{class_hash}": {"get": op(
        "Get class", ref("ClassDefinition"), READ + (404,), params=[CLASS_HASH],
        desc="The class definition exactly as the feeder gateway's get_class_by_hash served it")},
    "/api/v1/bans": {
        "get": op("List bans", ref("BanPage"), READ, params=[
            OFFSET, LIMIT,
            {"name": "kind", "in": "query", "required": False, "schema": {"type": "string", "enum": ["ip", "cidr", "peer"]}},
            {"name": "status", "in": "query", "required": False, "description": "active (default), expired or all.",
             "schema": {"type": "string", "enum": ["active", "expired", "all"], "default": "active"}}]),
        "post": op("Add ban", ref("Ban"), READ + (413, 415, 422), body=ref("NewBan"), ok_code="201",
                   desc="The ban (an existing active ban of the same target is extended, same id)"),
        "delete": op("Clear bans", ref("Cleared"), READ, params=[
            {"name": "confirm", "in": "query", "required": True, "description": "Must be true.",
             "schema": {"type": "boolean", "enum": [True]}}]),
    },
    "/api/v1/bans/{id}": {
        "get": op("Get ban", ref("Ban"), READ + (404,), params=[BAN_ID]),
        "delete": op("Remove ban", ref("Ban"), READ + (404,), params=[BAN_ID]),
    },
    "/api/v1/scores": {"get": op("List scores", ref("ScorePage"), READ, params=[OFFSET, LIMIT])},
    "/api/v1/scores/{peer_id}": {"get": op("Get score", ref("Score"), READ + (404,), params=[PEER_ID])},
    "/api/v1/scores/{peer_id}/reset": {"post": op("Reset score", ref("ScoreReset"), READ, params=[PEER_ID])},
    "/api/v1/audit": {"get": op("List audit entries", ref("AuditPage"), READ, params=[OFFSET, LIMIT])},
    "/api/v1/peers/{peer_id}/disconnect": {"post": op("Disconnect peer", ref("Disconnected"), READ + (404,), params=[PEER_ID])},
}
paths["/readyz"]["get"]["responses"]["503"] = {"description": "A dependency does not answer",
                                               "content": {"application/json": {"schema": ref("Ready")}}}

MULTIADDRS = {"type": "array", "items": {"type": "string"}}
schemas = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
        "error": {"type": "object", "required": ["code", "message"], "additionalProperties": False, "properties": {
            "code": {"type": "string", "description": "Stable machine-readable code, e.g. bad_request, invalid_token."},
            "message": {"type": "string", "description": "What is wrong, naming the field."}}}}},
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["ok"]}}},
    "Ready": {"type": "object", "required": ["status", "checks"], "properties": {
        "status": {"type": "string", "enum": ["ready", "not_ready"]},
        "checks": {"type": "object", "additionalProperties": {"type": "boolean"}}}},
    "Node": {"type": "object", "required": ["peer_id", "network", "mode", "version", "uptime_seconds", "listen_addrs",
                                            "external_addrs", "routing_table_size", "connected_peers"], "properties": {
        "peer_id": {"type": "string"}, "network": {"type": "string"},
        "mode": {"type": "string", "enum": ["relay", "feeder"]}, "version": {"type": "string"},
        "uptime_seconds": {"type": "integer", "minimum": 0},
        "listen_addrs": {**MULTIADDRS, "description": "Each ends in /p2p/<peer id>: what joining peers put in --p2p-peers."},
        "external_addrs": MULTIADDRS,
        "routing_table_size": {"type": "integer", "minimum": 0}, "connected_peers": {"type": "integer", "minimum": 0}}},
    "Peer": {"type": "object", "required": ["peer_id", "addresses", "direction", "protocols", "listen_addrs",
                                            "connected_since", "connections"], "properties": {
        "peer_id": {"type": "string"}, "addresses": MULTIADDRS,
        "direction": {"type": "string", "enum": ["inbound", "outbound"]},
        "agent": {"type": ["string", "null"]}, "protocol_version": {"type": ["string", "null"]},
        "protocols": {"type": "array", "items": {"type": "string"}}, "listen_addrs": MULTIADDRS,
        "rtt_ms": {"type": ["number", "null"]}, "connected_since": {"type": "string", "format": "date-time"},
        "score": {"type": ["number", "null"], "description": "Control-plane score (GET /peers/{peer_id} only)."},
        "connections": {"type": "integer", "minimum": 0}}},
    "PeerPage": {"type": "object", "required": ["items", "total", "offset", "limit"], "properties": {
        "items": {"type": "array", "items": ref("Peer")}, "total": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1}}},
    "Event": {"type": "object", "required": ["type"], "description": "One live event; other fields depend on type.",
              "properties": {"type": {"type": "string", "enum": [
                  "block_committed", "peer_connected", "peer_disconnected", "ban_added", "ban_removed",
                  "ban_expired", "peer_penalised", "peer_auto_banned"]}}},
    "Chain": {"type": "object", "required": ["mode", "chain", "best_known", "lag_blocks", "sync_state", "history_from"], "properties": {
        "mode": {"type": "string", "enum": ["relay", "feeder"]},
        "chain": {"type": "string", "enum": ["devnet", "starknet"], "description": "Chain rules blocks are verified with."},
        "head": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["number", "hash"], "properties": {
            "number": {"type": "integer", "minimum": 0}, "hash": {"type": "string"}}}]},
        "best_known": {"type": "integer", "minimum": 0}, "lag_blocks": {"type": "integer", "minimum": 0},
        "gateway_head": {"type": ["integer", "null"], "minimum": 0, "description": "Upstream head (feeders)."},
        "sync_state": {"type": "string", "enum": ["synced", "syncing", "disabled"]},
        "history_from": {"type": "integer", "minimum": 0, "description": "First block held: the trusted checkpoint's number (--checkpoint), else 0. Earlier blocks are not found."}}},
    "BlockHeader": {"type": "object", "required": ["number", "hash", "parent_hash", "timestamp_ms", "bodies", "signature"],
                    "properties": {
        "number": {"type": "integer", "minimum": 0}, "hash": {"type": "string"}, "parent_hash": {"type": "string"},
        "timestamp_ms": {"type": "integer", "minimum": 0}, "signature": {"type": "string", "description": "hex"},
        "bodies": {"type": "array", "items": {"type": "object", "required": ["component", "commitment", "count"],
            "properties": {"component": {"type": "string"}, "commitment": {"type": "string"},
                           "count": {"type": "integer", "minimum": 0}}}}}},
    "ClassDefinition": {"type": "object", "description":
        "A Starknet contract class as get_class_by_hash serves it: Cairo 0 (program, entry_points_by_type, abi) "
        "or Sierra (sierra_program, contract_class_version, entry_points_by_type, abi). Stored only after its "
        "class hash was recomputed from it."},
    "NewBan": {"type": "object", "required": ["target", "reason"], "additionalProperties": False, "properties": {
        "target": {"type": "string", "description": "IPv4/IPv6 address, CIDR (normalised to its network) or peer id.",
                   "examples": ["203.0.113.7", "2001:db8::/32", "12D3KooW..."]},
        "reason": {"type": "string", "minLength": 1},
        "duration": {"type": "string", "description": "humantime, > 0, e.g. 1h, 30m. Omit both for a permanent ban."},
        "expires_at": {"type": "string", "format": "date-time", "description": "In the future."}}},
    "Ban": {"type": "object", "required": ["id", "target", "kind", "reason", "created_by", "created_at", "active"],
            "properties": {
        "id": {"type": "integer"}, "target": {"type": "string"}, "kind": {"type": "string", "enum": ["ip", "cidr", "peer"]},
        "reason": {"type": "string"}, "created_by": {"type": "string", "description": "Token subject, or auto."},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"}, "active": {"type": "boolean"}}},
    "BanPage": {"type": "object", "required": ["items", "total", "offset", "limit"], "properties": {
        "items": {"type": "array", "items": ref("Ban")}, "total": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1}}},
    "Cleared": {"type": "object", "required": ["removed"], "properties": {"removed": {"type": "integer", "minimum": 0}}},
    "Score": {"type": "object", "required": ["peer", "score", "history"], "properties": {
        "peer": {"type": "string"}, "score": {"type": "number"},
        "history": {"type": "array", "items": {"type": "object", "required": ["at", "event", "delta", "score"], "properties": {
            "at": {"type": "string", "format": "date-time"}, "event": {"type": "string"},
            "delta": {"type": "number"}, "score": {"type": "number"}}}}}},
    "ScorePage": {"type": "object", "required": ["items", "total", "offset", "limit"], "properties": {
        "items": {"type": "array", "items": ref("Score")}, "total": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1}}},
    "ScoreReset": {"type": "object", "required": ["peer", "score"], "properties": {
        "peer": {"type": "string"}, "score": {"type": "number"}}},
    "AuditEntry": {"type": "object", "required": ["at", "subject", "method", "route", "path", "status", "client"],
                   "properties": {
        "at": {"type": "string", "format": "date-time"}, "subject": {"type": "string", "description": "Token sub."},
        "method": {"type": "string"}, "route": {"type": "string"}, "path": {"type": "string"},
        "status": {"type": "integer"}, "client": {"type": "string", "description": "Client address."},
        "detail": {"type": "object", "description": "What the call did (absent when it failed).", "properties": {
            "ban_id": {"type": "integer"}, "target": {"type": "string"}, "peer_id": {"type": "string"},
            "removed": {"type": "integer", "minimum": 0}}}}},
    "AuditPage": {"type": "object", "required": ["items", "total", "offset", "limit"], "properties": {
        "items": {"type": "array", "items": ref("AuditEntry")}, "total": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1}}},
    "Disconnected": {"type": "object", "required": ["peer_id", "disconnected"], "properties": {
        "peer_id": {"type": "string"}, "disconnected": {"type": "boolean"}}},
}

doc = {
    "openapi": "3.1.0",
    "info": {"title": "Wharf admin API", "version": "1.0.0",
             "description": "Operator API of a Wharf relay. Bearer JWT (HS256 or EdDSA, selected by kid); "
                            "scope `read` for reads, `admin` for changes. Every error has the Error shape."},
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "responses": {"Error": {"description": "Error (status per RFC 9110; 401 carries WWW-Authenticate, 429 Retry-After)",
                                "content": {"application/json": {"schema": ref("Error")}}}},
        "schemas": schemas,
    },
}
out = pathlib.Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
out.write_text(json.dumps(doc, indent=2) + "\n")
print(f"wrote {out}")
