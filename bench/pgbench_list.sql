-- The SQL behind one `GET /api/projects?status=in_progress&sort_by=created_at&sort_order=desc`
-- for the benchmark student demo1 (its id is deterministic: see seed --demo), as the
-- server issues it: the signed-in user's lookup, the page's total, the page itself.
-- bench/run.sh runs it with pgbench to measure what PostgreSQL alone can do here.
SELECT id, email, name, password_hash, phone, is_admin, is_active, signup_step, last_login_at,
       created_at, updated_at, deleted_at, deleted_by, delete_batch_id
  FROM users WHERE id = '64656d6f-0100-8000-8000-000000000001' AND deleted_at IS NULL LIMIT 1;
SELECT COUNT(*) AS num_items FROM (
  SELECT id FROM projects
   WHERE user_id = '64656d6f-0100-8000-8000-000000000001' AND deleted_at IS NULL AND status = 'in_progress') AS sub_query;
SELECT id, user_id, title, description, category, tech_stack, status, synopsis_submitted,
       created_at, updated_at, deleted_at, deleted_by, delete_batch_id
  FROM projects
 WHERE user_id = '64656d6f-0100-8000-8000-000000000001' AND deleted_at IS NULL AND status = 'in_progress'
 ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0;
