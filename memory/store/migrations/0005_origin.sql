-- Where an observation came from, kept apart from what it is (#13): a screenshot is a screen
-- whether live capture took it or `engram import frames` brought it, so type filters, counts,
-- the timeline and search treat both alike. Imported frames were stored with kind 'import'.
ALTER TABLE observations ADD COLUMN origin TEXT NOT NULL DEFAULT 'capture'
    CHECK (origin IN ('capture', 'import'));
UPDATE observations SET origin = 'import'
    WHERE kind = 'import' OR (kind = 'chat' AND ext_id IS NOT NULL AND ext_id NOT LIKE 'engram:%');
UPDATE observations SET kind = 'screen' WHERE kind = 'import';
