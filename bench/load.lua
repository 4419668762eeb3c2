-- wrk script for bench/bench_load.py: sends the target's request and counts answers.
--
--   wrk ... -s bench/load.lua URL -- EXPECTED METHOD BODY_FILE NONCE
--
-- EXPECTED  the one status a good answer has (200, or 302 for a form that redirects);
--           any other is counted as unexpected, 2xx and 3xx included, so a login
--           redirect or a form shown again with errors is not taken for success.
-- METHOD    GET or POST.
-- BODY_FILE a form body (application/x-www-form-urlencoded) for POST, or "-". Every
--           "__UNIQUE__" in it becomes a key unique to this request (NONCE, wrk thread,
--           counter), so that each homework check-in is a new one and not a resend.
-- NONCE     a word unique to this run of wrk.
--
-- done() prints one line, "BENCH key=value ...", that bench_load.py reads.

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[1])
  wrk.method = args[2]
  body = nil
  if args[3] and args[3] ~= "-" then
    local file = assert(io.open(args[3], "rb"))
    body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  unique = body ~= nil and body:find("__UNIQUE__", 1, true) ~= nil
  nonce = args[4] or "run"
  counter = 0
  unexpected = 0
  first_unexpected = 0
end

function request()
  local sent = body
  if unique then
    counter = counter + 1
    local key = string.format("%s-%d-%09d", nonce, thread_number, counter)
    sent = string.gsub(body, "__UNIQUE__", key)
  end
  return wrk.format(nil, nil, nil, sent)
end

function response(status, headers, response_body)
  if status ~= expected then
    unexpected = unexpected + 1
    if first_unexpected == 0 then
      first_unexpected = status
    end
  end
end

function done(summary, latency, requests)
  local wrong, first = 0, 0
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("unexpected")
    local status = thread:get("first_unexpected")
    if status ~= 0 then
      first = status
    end
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d "
      .. "timeout=%d unexpected=%d first_unexpected=%d p50_us=%d p90_us=%d p99_us=%d "
      .. "max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, wrong, first,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
  ))
end
