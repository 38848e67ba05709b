-- wrk script: every request creates a new running run with two planned steps (POST /api/runs).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"workflowName":"bench-ingest","name":"wrk writer","status":"running","steps":[{"stepId":"a"},{"stepId":"b"}]}'
