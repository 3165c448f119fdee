-- POST the JSON body in BENCH_BODY to the URL given on wrk's command line, with
-- `Authorization: Bearer $BENCH_TOKEN` when BENCH_TOKEN is set. At the end, print one line
-- `BENCH_RESULT {json}` that bench/wrk.py parses (latencies in microseconds).

-- BENCH_METHOD=GET sends no body; BENCH_COOKIE adds a Cookie header (the back-office session).
wrk.method = os.getenv("BENCH_METHOD") or "POST"
if wrk.method == "POST" then
  wrk.body = os.getenv("BENCH_BODY") or "{}"
  wrk.headers["Content-Type"] = "application/json"
end
local cookie = os.getenv("BENCH_COOKIE")
if cookie ~= nil and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- Sign-ins (BENCH_LOGIN_NAMES, comma-separated): every request puts the next login name of this
-- thread's share (names dealt to the BENCH_THREADS threads in turn) in place of LOGIN_NAME_SLOT in the
-- body, and comes from its own client address (X-Forwarded-For 10.<thread>.<n>; the server trusts one
-- proxy), so the AUTH-5 tries held while hashes run spread over many accounts and addresses. Each
-- answer is counted: a token is a sign-in; otherwise the payload's first error code (or HTTP_<status>,
-- or NO_TOKEN) is a refusal. Without BENCH_LOGIN_NAMES, `request` and `response` stay undefined and
-- wrk sends its one prepared request as fast as it can.
local login_names = os.getenv("BENCH_LOGIN_NAMES") or ""
local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

if login_names ~= "" then
  local names, sent = {}, 0
  signed_in, refused = 0, {}

  function init(args)
    local count = tonumber(os.getenv("BENCH_THREADS")) or 1
    local all = {}
    for name in string.gmatch(login_names, "[^,]+") do
      table.insert(all, name)
    end
    for i, name in ipairs(all) do
      if (i - 1) % count == thread_number then
        table.insert(names, name)
      end
    end
    if #names == 0 then
      names = all
    end
  end

  function request()
    local name = names[sent % #names + 1]
    local headers = {}
    for k, v in pairs(wrk.headers) do
      headers[k] = v
    end
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", thread_number % 256, math.floor(sent / 256) % 256, sent % 256)
    sent = sent + 1
    return wrk.format(nil, nil, headers, (string.gsub(wrk.body, "LOGIN_NAME_SLOT", name)))
  end

  function response(status, headers, body)
    if status == 200 and string.find(body, '"token"%s*:%s*"') then
      signed_in = signed_in + 1
      return
    end
    local code = string.match(body, '"code"%s*:%s*"([%w_]+)"')
    if code == nil then
      code = status == 200 and "NO_TOKEN" or ("HTTP_" .. status)
    end
    refused[code] = (refused[code] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_signed_in, total_refused = 0, {}
  for _, thread in ipairs(threads) do
    total_signed_in = total_signed_in + (thread:get("signed_in") or 0)
    for code, n in pairs(thread:get("refused") or {}) do
      total_refused[code] = (total_refused[code] or 0) + n
    end
  end
  local codes = {}
  for code, n in pairs(total_refused) do
    table.insert(codes, string.format('"%s": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"signed_in": %d, "refused": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, total_signed_in, table.concat(codes, ", ")))
end
