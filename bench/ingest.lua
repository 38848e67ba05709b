-- wrk script: every request creates a new running run with two planned steps (POST /api/runs).
-- Each run has a name of its own, as an engine's runs do (the name index and the trigram search index
-- then take each insert at a place of their own, not all at one).
local counter = 0
local thread_id = 0
local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"workflowName":"bench-ingest","name":"Nightly reflection %d-%d for account %d","status":"running","steps":[{"stepId":"a"},{"stepId":"b"}]}',
    thread_id, counter, (counter * 7919) % 100000)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
