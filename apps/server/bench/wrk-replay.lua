-- wrk script for npm run bench:ingest: replays pre-built raw HTTP requests
-- (signed ahead of time, each with its own nonce) from a file, in order, so the
-- load generator spends its CPU on sending rather than on signing.
--
-- File format: for each request, its length in bytes on a line, then the bytes.
-- Usage: wrk -t1 -c64 -d10s -s wrk-replay.lua http://host:port -- <file>

local requests = {}
local count = 0
local next_index = 0
wrapped = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  while true do
    local line = file:read("*l")
    if not line then break end
    local length = tonumber(line)
    count = count + 1
    requests[count] = file:read(length)
  end
  file:close()
  assert(count > 0, "no requests in " .. args[1])
end

function request()
  next_index = next_index + 1
  if next_index > count then
    -- Out of prepared requests: start over (for signed reports those are
    -- replays and get refused; the bench reports it).
    next_index = 1
    wrapped = wrapped + 1
  end
  return requests[next_index]
end

function done(summary, latency)
  local e = summary.errors
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + thread:get("wrapped") end
  io.write(string.format(
    'RESULT {"wrapped":%d,"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    wraps, summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
