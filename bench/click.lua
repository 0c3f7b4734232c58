-- bench/click.lua: each request follows a different one-click link /a/TOKEN.
-- The tokens come from the file named by the TOKENS environment variable (one
-- per line). Round-robin over the list; thread i of WRK_THREADS starts at
-- i/WRK_THREADS of the list, so the threads do not click the same supporter
-- at the same moment. No response() callback: wrk stays as light as possible
-- (it shares the 2 cores with the server); click.sh checks the statuses.
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

function init(args)
   local path = os.getenv("TOKENS") or "tokens.txt"
   tokens = {}
   for line in io.lines(path) do
      if #line > 0 then tokens[#tokens + 1] = "/a/" .. line end
   end
   if #tokens == 0 then error("no tokens in " .. path) end
   local nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
   idx = math.floor(#tokens * id / nthreads)
end

function request()
   idx = idx % #tokens + 1
   return wrk.format("GET", tokens[idx])
end
