-- The todo-list schema of PowerSync's demo apps, plus sharing of lists with other users.
CREATE TABLE IF NOT EXISTS lists (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  name text NOT NULL,
  owner_id text NOT NULL
);
CREATE TABLE IF NOT EXISTS todos (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  description text NOT NULL,
  completed boolean NOT NULL DEFAULT false,
  created_by text,
  completed_by text,
  list_id uuid NOT NULL REFERENCES lists (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS todos_list_id ON todos (list_id);
-- A list is visible to its owner and to every user it is shared with.
CREATE TABLE IF NOT EXISTS list_shares (
  list_id uuid NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  PRIMARY KEY (list_id, user_id)
);
