-- wrk script: every request reports a running run's progress (PATCH /api/runs/{id}: its metrics and context), a run
-- picked at random among those the bench created for it. Arguments (after --): the runs' id prefix and their count.
local prefix, count
local counter = 0

function init(args)
  prefix = args[1]
  count = tonumber(args[2])
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d", prefix, math.random(0, count - 1))
  local body = string.format('{"metrics":{"targetsProcessed":%d},"context":{"page":%d}}', counter, counter)
  return wrk.format("PATCH", "/api/runs/" .. id, { ["Content-Type"] = "application/json" }, body)
end
