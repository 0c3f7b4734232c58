-- bench/pledge.lua: POST /c/SLUG/pledge with a JSON pledge; every request has
-- a new email address (run id, thread id and a per-thread counter), so every
-- request is a new supporter, a consent record and a queued confirmation mail.
-- Counts the statuses per thread (response()) and prints them in done():
-- "statuses: 202=... 503=...".
-- Environment: SLUG (default bench), RUN (a run id, default the time).
local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   n = 0
   statuses = {}
   run = os.getenv("RUN") or tostring(os.time())
   path = "/c/" .. (os.getenv("SLUG") or "bench") .. "/pledge"
   headers = {["Content-Type"] = "application/json"}
end

function request()
   n = n + 1
   local body = string.format(
      '{"email":"p%s-t%d-%d@pledge.example.org","name":"Pledger %d","timezone":"Europe/Berlin","consent":true}',
      run, id, n, n)
   return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      local s = t:get("statuses")
      for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
   end
   local parts = {}
   for k, v in pairs(total) do parts[#parts + 1] = k .. "=" .. v end
   table.sort(parts)
   io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
