-- The traffic of bench/load.py for wrk: readers reading a text's page, signed in
-- or not, and signed-in readers posting page comments, annotations and replies.
--
-- Run with as many threads as connections (wrk -t N -c N): each thread then has
-- one connection, so every response answers the request just before it, and the
-- script can time and check each one by kind. Threads are spread over the app
-- servers in BENCH_SERVERS in turn. Readers are picked at random from all of
-- them (so one session is used on every server); each thread posts as its own
-- share of the readers, in turn, so no reader posts twice within the flood
-- interval at the rates two cores reach.
--
-- Environment: BENCH_DATA (from prepare.py), BENCH_OUT (wrk's summary, written
-- by done(); each thread writes its responses to BENCH_OUT.<thread>),
-- BENCH_SERVERS (host:port,...), BENCH_THREADS, BENCH_RUN (a marker put in every
-- post), BENCH_POST_SHARE (0.10), BENCH_SIGNED_IN_SHARE (of reads, 0.5).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = field
  end
  return fields
end

local function urlencode(text)
  return (text:gsub("[^%w%-%._~ ]", function(c)
    return string.format("%%%02X", string.byte(c))
  end):gsub(" ", "+"))
end

local post_share = tonumber(os.getenv("BENCH_POST_SHARE") or "0.10")
local signed_in_share = tonumber(os.getenv("BENCH_SIGNED_IN_SHARE") or "0.5")
local run_marker = os.getenv("BENCH_RUN") or "bench"
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

local page, users, parents, anchors = nil, {}, {}, {}
for line in io.lines(os.getenv("BENCH_DATA")) do
  local fields = split(line)
  if fields[1] == "path" then
    page = fields[2]
  elseif fields[1] == "user" then
    users[#users + 1] = { session = fields[2], csrf = fields[3], name = fields[4] }
  elseif fields[1] == "parent" then
    parents[#parents + 1] = fields[2]
  elseif fields[1] == "anchor" then
    anchors[#anchors + 1] = fields[2]
  end
end

-- The main state: spread the threads over the servers.

local threads = {}

function setup(thread)
  local servers = {}
  for server in string.gmatch(os.getenv("BENCH_SERVERS"), "[^,]+") do
    local host, port = server:match("^(.+):(%d+)$")
    servers[#servers + 1] = wrk.lookup(host, port)[1]
  end
  local index = #threads
  thread:set("thread_index", index)
  thread.addr = servers[index % #servers + 1]
  threads[#threads + 1] = thread
end

-- Each thread's state. Every response is written as a line to the thread's own
-- file (BENCH_OUT.<thread>): kind, status, milliseconds, post id, problem, and
-- the post's token; every post as it is sent too ("sent", token), so that a post
-- still in flight when wrk stops can be told from one saved by mistake. (wrk
-- calls request() once more in thread 0 to check it, and never sends that one:
-- it shows as sent, unanswered and not saved, which is fine.)

local kind, started, reader, token = nil, 0, nil, ""
local posters, poster_turn, sequence = {}, 0, 0
local out

local WORDS = {
  "the", "order", "came", "from", "Moscow", "and", "the", "camps", "were", "ready",
  "why", "would", "survivors", "be", "suspected", "this", "passage", "says", "much",
}

function init(args)
  math.randomseed(1000 + thread_index * 7919)
  for i = thread_index + 1, #users, thread_count do
    posters[#posters + 1] = users[i]
  end
  out = assert(io.open(os.getenv("BENCH_OUT") .. "." .. thread_index, "w"))
  out:setvbuf("line")
end

local function a_post()
  sequence = sequence + 1
  poster_turn = poster_turn % #posters + 1
  local poster = posters[poster_turn]
  local words = {}
  for i = 1, math.random(6, 30) do
    words[i] = WORDS[math.random(#WORDS)]
  end
  token = string.format("%s-t%d-%d", run_marker, thread_index, sequence)
  out:write("sent\t" .. token .. "\n")
  local text = string.format("Load note %s: %s.", token, table.concat(words, " "))
  local body = "csrfmiddlewaretoken=" .. poster.csrf .. "&website=&body=" .. urlencode(text)
  local choice = math.random(3)
  if choice == 1 then
    kind = "post comment"
  elseif choice == 2 then
    kind = "post annotation"
    body = body .. "&" .. anchors[math.random(#anchors)]
  else
    kind = "post reply"
    body = body .. "&parent=" .. parents[math.random(#parents)]
  end
  local headers = {
    ["Cookie"] = "sessionid=" .. poster.session .. "; csrftoken=" .. poster.csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  return wrk.format("POST", page .. "posts/", headers, body)
end

function request()
  local draw = math.random()
  local message
  token = ""
  if draw < post_share then
    message = a_post()
  elseif draw < post_share + (1 - post_share) * signed_in_share then
    kind = "read signed-in"
    reader = users[math.random(#users)]
    message = wrk.format("GET", page, { ["Cookie"] = "sessionid=" .. reader.session })
  else
    kind = "read anonymous"
    message = wrk.format("GET", page, {})
  end
  started = now_ms()
  return message
end

function response(status, headers, body)
  local elapsed = now_ms() - started
  local post_id, problem = "", ""
  if kind == "read signed-in" and status == 200 then
    if not body:find("Signed in as <strong>" .. reader.name .. "</strong>", 1, true) then
      problem = "signed-in read shown as someone else or anonymous"
    end
  elseif kind == "read anonymous" and status == 200 then
    if body:find("Signed in as", 1, true) then
      problem = "anonymous read shown as signed in"
    end
  elseif kind:sub(1, 4) == "post" and status == 302 then
    local location = headers["Location"] or headers["location"] or ""
    post_id = location:match("post=(%d+)") or ""
    if post_id == "" then
      problem = "post redirected without a post id"
    end
  end
  out:write(string.format("%s\t%d\t%.3f\t%s\t%s\t%s\n", kind, status, elapsed, post_id, problem,
    token))
end

function done(summary, latency, requests)
  local file = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local errors = summary.errors
  file:write(string.format("%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", summary.duration,
    summary.requests, summary.bytes, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout))
  file:close()
end
