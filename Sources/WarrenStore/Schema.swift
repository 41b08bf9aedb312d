/// One step of the schema, with the statements each backend runs for it.
///
/// Steps are applied in order, each version once, inside the start-up transaction; a step is
/// never edited once released: a change is a new step.
struct Migration: Sendable {
    /// The version this step brings the database to (1, 2, …, no gaps).
    let version: Int
    /// What it does, for logs.
    let summary: String
    /// The statements for SQLite.
    let sqlite: [String]
    /// The statements for PostgreSQL.
    let postgres: [String]
}

/// The schema this build knows.
enum Schema {
    /// The newest version: a database past it belongs to a newer Warren.
    static var version: Int { migrations.last?.version ?? 0 }

    /// Every step, oldest first.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            summary: "events with a full-text index; accounts and refresh tokens",
            sqlite: [
                // `seq` is the rowid the FTS5 index points at: an explicit INTEGER PRIMARY KEY, so
                // VACUUM cannot renumber it. `id` (an EventID) is the key everything else uses.
                """
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    at INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    text TEXT NOT NULL,
                    payload TEXT NOT NULL
                )
                """,
                // External-content FTS5: the text is stored once, in `events`; triggers keep the
                // index in step with every insert, update and delete.
                "CREATE VIRTUAL TABLE events_fts USING fts5(text, content='events', content_rowid='seq')",
                """
                CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
                    INSERT INTO events_fts(rowid, text) VALUES (new.seq, new.text);
                END
                """,
                """
                CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
                    INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', old.seq, old.text);
                END
                """,
                """
                CREATE TRIGGER events_fts_update AFTER UPDATE OF text ON events BEGIN
                    INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', old.seq, old.text);
                    INSERT INTO events_fts(rowid, text) VALUES (new.seq, new.text);
                END
                """,
                """
                CREATE TABLE accounts (
                    name_key TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE refresh_tokens (
                    id TEXT PRIMARY KEY,
                    family TEXT NOT NULL,
                    account TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    used_at INTEGER,
                    revoked_at INTEGER
                )
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens(family)",
            ],
            postgres: [
                // COLLATE "C": ids sort bytewise whatever the database's locale. JSON rather than
                // JSONB: the payload is kept as written, and JSONB refuses the escape \u0000.
                """
                CREATE TABLE events (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    at TIMESTAMPTZ NOT NULL,
                    kind TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    text TEXT NOT NULL,
                    payload JSON NOT NULL,
                    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
                )
                """,
                "CREATE INDEX events_search ON events USING GIN (search)",
                """
                CREATE TABLE accounts (
                    name_key TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                """
                CREATE TABLE refresh_tokens (
                    id TEXT PRIMARY KEY,
                    family TEXT NOT NULL,
                    account TEXT NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL,
                    used_at TIMESTAMPTZ,
                    revoked_at TIMESTAMPTZ
                )
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens(family)",
            ]
        ),
        Migration(
            version: 2,
            summary: "rooms, memberships and read positions; every event gets a room (the existing ones and every account: general)",
            sqlite: [
                """
                CREATE TABLE rooms (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    visibility TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                // `read_up_to`: the newest event id the member has read in the room (ids are
                // time-ordered, so "unread" is "id greater than this").
                """
                CREATE TABLE room_members (
                    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
                    member_key TEXT NOT NULL,
                    member TEXT NOT NULL,
                    joined_at INTEGER NOT NULL,
                    read_up_to TEXT,
                    PRIMARY KEY (room_id, member_key)
                )
                """,
                "CREATE INDEX room_members_member ON room_members(member_key)",
                "ALTER TABLE events ADD COLUMN room TEXT NOT NULL DEFAULT 'general'",
                "CREATE INDEX events_room ON events(room, id)",
                "INSERT INTO rooms (id, name, visibility, created_by, created_at) VALUES ('general', 'general', 'public', 'warren', CAST(strftime('%s', 'now') AS INTEGER) * 1000)",
                "INSERT INTO room_members (room_id, member_key, member, joined_at) SELECT 'general', name_key, name, created_at FROM accounts",
            ],
            postgres: [
                """
                CREATE TABLE rooms (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    name TEXT NOT NULL,
                    visibility TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                """
                CREATE TABLE room_members (
                    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
                    member_key TEXT NOT NULL,
                    member TEXT NOT NULL,
                    joined_at TIMESTAMPTZ NOT NULL,
                    read_up_to TEXT COLLATE "C",
                    PRIMARY KEY (room_id, member_key)
                )
                """,
                "CREATE INDEX room_members_member ON room_members(member_key)",
                // A constant default: PostgreSQL adds the column without rewriting the table.
                #"ALTER TABLE events ADD COLUMN room TEXT COLLATE "C" NOT NULL DEFAULT 'general'"#,
                "CREATE INDEX events_room ON events(room, id)",
                "INSERT INTO rooms (id, name, visibility, created_by, created_at) VALUES ('general', 'general', 'public', 'warren', now())",
                "INSERT INTO room_members (room_id, member_key, member, joined_at) SELECT 'general', name_key, name, created_at FROM accounts",
            ]
        ),
    ]

    /// The steps a database at `current` still needs; throws when it is newer than this build.
    static func pending(after current: Int) throws(StoreError) -> [Migration] {
        guard current <= version else { throw .schemaTooNew(found: current, known: version) }
        return migrations.filter { $0.version > current }
    }
}
