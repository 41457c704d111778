-- wrk script for payment-bench/bench. Arguments after `--`:
--   LABEL get                      GET the URL given to wrk, again and again
--   LABEL post BODY                POST BODY (form-encoded) to the URL, again and again
--   LABEL file FILE THREADS        replay FILE's lines `PATH?QUERY<TAB>COOKIE`, each line
--                                  once: thread i takes lines i, i+THREADS, ...; a thread
--                                  that runs out starts over, and counts each request after that in `wrapped`
-- LABEL is copied into the result line (e.g. "kind=callback side=router round=1"); the
-- line, printed by done(), is what `payment-bench report` reads.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

function init(args)
   label = args[1] or ""
   mode = args[2] or "get"
   wrapped = 0
   exhausted = false
   index = 0
   requests = {}
   if mode == "file" then
      local nthreads = tonumber(args[4])
      local n = 0
      for line in io.lines(args[3]) do
         if n % nthreads == id - 1 then
            local path, cookie = line:match("^([^\t]*)\t?(.*)$")
            local headers = {}
            if cookie ~= nil and cookie ~= "" then
               headers["Cookie"] = cookie
            end
            table.insert(requests, wrk.format("GET", path, headers))
         end
         n = n + 1
      end
   elseif mode == "post" then
      local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
      requests[1] = wrk.format("POST", nil, headers, args[3])
   else
      requests[1] = wrk.format("GET")
   end
   total = #requests
end

function request()
   index = index + 1
   if index > #requests then
      index = 1
      exhausted = (mode == "file")
   end
   if exhausted then
      wrapped = wrapped + 1
   end
   return requests[index]
end

function done(summary, latency, reqs)
   -- `fresh`: how many of the file's first lines every thread got through (thread i sent
   -- lines i, i+THREADS, ...), so that the first `fresh` lines were all sent at least once.
   local wrapped_total = 0
   local fresh = nil
   for _, thread in ipairs(threads) do
      wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
      local sent = thread:get("exhausted") and thread:get("total") or thread:get("index")
      if fresh == nil or sent < fresh then fresh = sent end
   end
   fresh = (fresh or 0) * #threads
   local e = summary.errors
   local label = threads[1] and threads[1]:get("label") or ""
   io.write(string.format(
      "RESULT %s requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d errors=%d status_errors=%d wrapped=%d fresh=%d\n",
      label, summary.requests, summary.duration,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      e.connect + e.read + e.write + e.timeout, e.status, wrapped_total, fresh))
end
