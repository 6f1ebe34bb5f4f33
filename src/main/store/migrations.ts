/**
 * @file Numbered schema migrations. `PRAGMA user_version` holds the number of the last one applied;
 * each runs in its own transaction, so a crash leaves the store at a whole version.
 * Never edit a shipped migration: append a new one.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * The migration rebuilds a table other tables reference (SQLite's 12-step ALTER): it runs with
   * foreign keys off, or dropping the old table would cascade into the rows that reference it.
   */
  rebuildsTables?: boolean;
}

/**
 * Per-box triggers that keep class_counts, images.box_count and image_classes in step. A bulk
 * import drops them inside its transaction and rebuilds the counters in a few set-based
 * statements instead (label-store.ts), then recreates them from this same text before commit.
 */
export const BOX_TRIGGERS_SQL = `
CREATE TRIGGER boxes_ai AFTER INSERT ON boxes BEGIN
  UPDATE class_counts SET boxes = boxes + 1 WHERE class_id = NEW.class_id;
  UPDATE images SET box_count = box_count + 1 WHERE id = NEW.image_id;
  INSERT INTO image_classes (image_id, class_id, split, status, boxes)
    SELECT NEW.image_id, NEW.class_id, split, status, 1 FROM images WHERE id = NEW.image_id
    ON CONFLICT (image_id, class_id) DO UPDATE SET boxes = boxes + 1;
END;
CREATE TRIGGER boxes_ad AFTER DELETE ON boxes BEGIN
  UPDATE class_counts SET boxes = boxes - 1 WHERE class_id = OLD.class_id;
  UPDATE images SET box_count = box_count - 1 WHERE id = OLD.image_id;
  UPDATE image_classes SET boxes = boxes - 1 WHERE image_id = OLD.image_id AND class_id = OLD.class_id;
  DELETE FROM image_classes WHERE image_id = OLD.image_id AND class_id = OLD.class_id AND boxes <= 0;
END;
CREATE TRIGGER boxes_au_class AFTER UPDATE OF class_id ON boxes WHEN OLD.class_id <> NEW.class_id BEGIN
  UPDATE class_counts SET boxes = boxes - 1 WHERE class_id = OLD.class_id;
  UPDATE class_counts SET boxes = boxes + 1 WHERE class_id = NEW.class_id;
  UPDATE image_classes SET boxes = boxes - 1 WHERE image_id = OLD.image_id AND class_id = OLD.class_id;
  DELETE FROM image_classes WHERE image_id = OLD.image_id AND class_id = OLD.class_id AND boxes <= 0;
  INSERT INTO image_classes (image_id, class_id, split, status, boxes)
    SELECT NEW.image_id, NEW.class_id, split, status, 1 FROM images WHERE id = NEW.image_id
    ON CONFLICT (image_id, class_id) DO UPDATE SET boxes = boxes + 1;
END;
`;
export const BOX_TRIGGER_NAMES = ['boxes_ai', 'boxes_ad', 'boxes_au_class'] as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE classes (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE,
  color TEXT NOT NULL,
  ord   INTEGER NOT NULL
) STRICT;

CREATE TABLE images (
  id         INTEGER PRIMARY KEY,
  path       TEXT NOT NULL UNIQUE,          -- relative to the project root, '/' separators
  hash       TEXT NOT NULL,                 -- sha1 of the file bytes
  width      INTEGER NOT NULL CHECK (width > 0),
  height     INTEGER NOT NULL CHECK (height > 0),
  split      TEXT NOT NULL DEFAULT 'none' CHECK (split IN ('train', 'val', 'test', 'none')),
  status     TEXT NOT NULL DEFAULT 'unlabeled' CHECK (status IN ('unlabeled', 'labeled', 'reviewed')),
  box_count  INTEGER NOT NULL DEFAULT 0,    -- kept by triggers; the browser shows it on every row
  attrs      TEXT,                          -- JSON, attributes kept from the source format
  added_at   INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX images_split_status ON images (split, status, id);
CREATE INDEX images_status ON images (status, id);
CREATE INDEX images_split ON images (split, id);
CREATE INDEX images_hash ON images (hash);

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('train', 'predict')),
  name        TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  config      TEXT NOT NULL,                -- JSON: the effective arguments
  metrics     TEXT,                         -- JSON: per-epoch table and final metrics
  dir         TEXT,                         -- run folder, relative to the project root
  created_at  INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;

-- AUTOINCREMENT: a deleted box's id is never reused, so undoing its delete can bring it back as it was.
CREATE TABLE boxes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  image_id   INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  class_id   INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  x          REAL NOT NULL,
  y          REAL NOT NULL,
  w          REAL NOT NULL CHECK (w >= 0),
  h          REAL NOT NULL CHECK (h >= 0),
  source     TEXT NOT NULL CHECK (source IN ('human', 'model', 'import')),
  run_id     INTEGER REFERENCES runs (id) ON DELETE SET NULL,
  score      REAL,
  attrs      TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX boxes_image_class ON boxes (image_id, class_id);
CREATE INDEX boxes_class_image ON boxes (class_id, image_id);

-- Model predictions are kept apart from labels: reviewing them never changes a label by itself.
CREATE TABLE predictions (
  id       INTEGER PRIMARY KEY,
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  x        REAL NOT NULL,
  y        REAL NOT NULL,
  w        REAL NOT NULL,
  h        REAL NOT NULL,
  score    REAL NOT NULL
) STRICT;
CREATE INDEX predictions_image ON predictions (image_id, run_id);
CREATE INDEX predictions_run ON predictions (run_id);

-- Edit log: one row per change, grouped so one user action (a paste of 5 boxes) undoes as one.
-- before/after are JSON snapshots of the box (null for create/delete). undone=1 rows are redoable.
CREATE TABLE edits (
  id       INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  group_id INTEGER NOT NULL,
  op       TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete', 'status')),
  box_id   INTEGER,
  before   TEXT,
  after    TEXT,
  source   TEXT NOT NULL,
  at       INTEGER NOT NULL,
  undone   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX edits_image ON edits (image_id, group_id);

-- Instances per class, kept by triggers, so class balance is one small read at any size.
CREATE TABLE class_counts (
  class_id INTEGER PRIMARY KEY REFERENCES classes (id) ON DELETE CASCADE,
  boxes    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Which classes each image holds, with the image's split and status copied in, so "images with
-- class C in split S with status T" is one index range (page and count) at 100k images / 1M boxes.
CREATE TABLE image_classes (
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  split    TEXT NOT NULL,
  status   TEXT NOT NULL,
  boxes    INTEGER NOT NULL,
  PRIMARY KEY (image_id, class_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX image_classes_filter ON image_classes (class_id, split, status, image_id);
CREATE INDEX image_classes_status ON image_classes (class_id, status, image_id);
CREATE INDEX image_classes_class ON image_classes (class_id, image_id);

CREATE TRIGGER classes_ai AFTER INSERT ON classes BEGIN
  INSERT INTO class_counts (class_id, boxes) VALUES (NEW.id, 0);
END;
CREATE TRIGGER images_au_filter AFTER UPDATE OF split, status ON images BEGIN
  UPDATE image_classes SET split = NEW.split, status = NEW.status WHERE image_id = NEW.id;
END;
CREATE TRIGGER boxes_bu_image BEFORE UPDATE OF image_id ON boxes WHEN OLD.image_id <> NEW.image_id BEGIN
  SELECT RAISE(ABORT, 'a box cannot move to another image; delete it and create a new one');
END;
${BOX_TRIGGERS_SQL}
`,
  },
  {
    version: 2,
    name: 'edit history: group counter, barrier, per-image index',
    sql: `
-- One row: the last undo group handed out (so a new group is not MAX over the whole log), and the
-- barrier: the last group made before an operation the log cannot replay (a class delete or
-- merge). Undo and redo never reach a group at or below floor_group; floor_reason says why.
CREATE TABLE edit_history (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  last_group   INTEGER NOT NULL,
  floor_group  INTEGER NOT NULL,
  floor_reason TEXT
) STRICT;
INSERT INTO edit_history (id, last_group, floor_group, floor_reason)
  SELECT 1, COALESCE(MAX(group_id), 0), 0, NULL FROM edits;

-- An image's newest undoable (undone = 0) or oldest redoable (undone = 1) group is one seek,
-- however long the image's history is.
DROP INDEX edits_image;
CREATE INDEX edits_history ON edits (image_id, undone, group_id);
`,
  },
  {
    version: 3,
    name: 'runs: interrupted status, owner and heartbeat',
    rebuildsTables: true,
    // A run whose process died is 'interrupted'; owner (host:pid) and heartbeat_at tell a run
    // another live process trains from one whose process is gone.
    sql: `
CREATE TABLE runs_v2 (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('train', 'predict')),
  name         TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
  config       TEXT NOT NULL,
  metrics      TEXT,
  dir          TEXT,
  created_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  owner        TEXT,                        -- host:pid of the process training it, while it runs
  heartbeat_at INTEGER                      -- ms; renewed by that process while it runs
) STRICT;
INSERT INTO runs_v2 (id, kind, name, status, config, metrics, dir, created_at, finished_at)
  SELECT id, kind, name, status, config, metrics, dir, created_at, finished_at FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v2 RENAME TO runs;
`,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
