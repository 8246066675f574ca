-- One target of bench/speed.py for wrk (-s): bench/speed.py writes before this
--   entries  = { {path, {header = value, ...}, the entry's own marker or nil}, ... }
--   expected = the status of the right answer (204 for an unchanged poll, else 200)
--   marker   = a string only the target's page has, or nil
-- Each thread asks for the entries in turn, from its own start. An answer is right
-- when its status is `expected`, it holds `marker`, and it holds the own marker of an
-- entry this thread asked for and has not yet seen answered (wrk does not say which
-- of a thread's connections answered, so the answer is matched to what is pending).
-- Anything else (a redirect to the sign-in page, an error page, someone else's page)
-- is counted bad. The request pages say in a Server-Timing header whether they were
-- kept or rendered (FLASK_SERVER_TIMING=1); done() prints the sums of every thread.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   prepared = {}
   for i, entry in ipairs(entries) do
      prepared[i] = wrk.format("GET", entry[1], entry[2])
   end
   position = (id * 7919) % #entries  -- threads start apart
   pending = {}
   good, bad, kept, rendered = 0, 0, 0, 0
end

function request()
   position = position % #entries + 1
   local own = entries[position][3]
   if own then
      pending[own] = (pending[own] or 0) + 1
   end
   return prepared[position]
end

local function answered(body)
   if next(pending) == nil then
      return true
   end
   for own, count in pairs(pending) do
      if body:find(own, 1, true) then
         pending[own] = count > 1 and count - 1 or nil
         return true
      end
   end
   return false
end

function response(status, headers, body)
   local timing = headers["Server-Timing"]
   if timing then
      if timing:find('desc="kept"', 1, true) then
         kept = kept + 1
      elseif timing:find('desc="rendered"', 1, true) then
         rendered = rendered + 1
      end
   end
   if status == expected and (marker == nil or body:find(marker, 1, true)) and answered(body) then
      good = good + 1
   else
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local sums = {good = 0, bad = 0, kept = 0, rendered = 0}
   for _, thread in ipairs(threads) do
      for name, _ in pairs(sums) do
         sums[name] = sums[name] + thread:get(name)
      end
   end
   io.write(string.format("bench: good %d bad %d kept %d rendered %d\n", sums.good, sums.bad, sums.kept,
                          sums.rendered))
end
