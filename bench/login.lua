-- bench/login.lua: POST /login with an organizer's right password, again and
-- again (a success is never counted by the login limit, so the limit never
-- answers 429 instead of checking the password). Counts the statuses per
-- thread and prints them in done(): "statuses: 303=... 503=...". Each login
-- on a new connection (Connection: close), as from many clients: a server
-- thread that is free accepts it, so logins reach every thread.
-- Environment: CSRF (a token from the muster_csrf cookie of GET /login),
-- ORG_EMAIL, ORG_PASSWORD (URL-safe: letters, digits, @ . -).
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   local csrf = os.getenv("CSRF")
   body = "csrf=" .. csrf .. "&email=" .. os.getenv("ORG_EMAIL") ..
      "&password=" .. os.getenv("ORG_PASSWORD")
   headers = {["Content-Type"] = "application/x-www-form-urlencoded",
              ["Cookie"] = "muster_csrf=" .. csrf,
              ["Connection"] = "close"}
end

function request()
   return wrk.format("POST", "/login", headers, body)
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
