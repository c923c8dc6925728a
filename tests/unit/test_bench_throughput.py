"""The pure parts of bench/throughput.py and bench/cluster.py: wrk's output, its Lua script, percentiles (pooled
over several wrk processes too), soak flatness, counters, connections split over nodes."""

import json
import re

import pytest

from bench.stats import counter_total, flat_after_warmup, per_lead, percentile, pooled_percentile, split_evenly
from bench.wrk import command, lua_string, parse_duration, parse_output, start_body, start_script

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8080/api/v1/sequences/start
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   290.12ms  120.40ms   1.08s    80.00%
    Req/Sec    12.10      4.20    20.00     70.00%
  Latency Distribution
     50%  290.00ms
     75%  350.50ms
     90%  612.00us
     99%    1.08s
  241 requests in 10.02s, 120.50KB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:     24.05
Transfer/sec:     12.03KB
"""


def test_parse_output_reads_rate_percentiles_and_errors():
    result = parse_output(WRK_OUTPUT)
    assert result.requests == 241
    assert result.seconds == pytest.approx(10.02)
    assert result.latency_seconds == pytest.approx({50: 0.290, 75: 0.3505, 90: 0.000612, 99: 1.08})
    assert result.non_2xx == 5
    assert result.socket_errors == 3
    assert result.ok_per_second == pytest.approx(236 / 10.02)  # the 5 non-2xx are not throughput


def test_parse_output_reads_the_latency_grid_of_the_start_script():
    grid_lines = "".join(f"latency_grid {us}\n" for us in (1500, 2500, 9000))
    assert parse_output(WRK_OUTPUT + grid_lines).latency_grid == pytest.approx((0.0015, 0.0025, 0.009))
    assert parse_output(WRK_OUTPUT).latency_grid == ()


def test_parse_output_without_errors_reports_zero():
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    result = parse_output(clean)
    assert (result.non_2xx, result.socket_errors) == (0, 0)


def test_parse_output_refuses_output_without_a_summary():
    with pytest.raises(ValueError):
        parse_output("unable to connect to 127.0.0.1:8080 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "seconds"), [("812.00us", 0.000812), ("3.27ms", 0.00327), ("1.5s", 1.5), ("1.00m", 60)]
)
def test_parse_duration_units(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_command_uses_latency_distribution_and_the_script():
    args = command("http://127.0.0.1:1/x", 10.0, 8, 2, "start.lua")
    assert args[:4] == ["wrk", "-t2", "-c8", "-d10s"]
    assert "--latency" in args
    assert args[-3:] == ["-s", "start.lua", "http://127.0.0.1:1/x"]


def test_start_script_makes_each_request_a_new_lead_with_its_own_key():
    script = start_script("ck_test_abc", "tpl_123", prefix="wrk")
    assert 'thread:set("thread_id", thread_count)' in script
    assert '"Bearer " .. "ck_test_abc"' in script
    assert 'local lead = "wrk" .. "-" .. thread_id .. "-" .. counter' in script
    assert 'headers["Idempotency-Key"] = lead' in script
    # the string.format pattern, filled in as Lua would, is the body the Python client sends
    pattern = json.loads(re.search(r"string\.format\((\".*\"), lead\)", script).group(1))
    body = pattern.replace("%s", "wrk-2-7").replace("%%", "%")
    assert json.loads(body) == json.loads(start_body("tpl_123", "wrk-2-7"))
    assert json.loads(body)["contact"]["emails"] == ["wrk-2-7@bench.example.com"]
    assert json.loads(body)["auto_approve"] is True
    # done() prints the grid the cluster benchmark pools: 999 percentiles, then the max
    assert "for i = 1, 1000 - 1 do" in script
    assert 'io.write(string.format("latency_grid %d\\n", latency.max))' in script


def test_lua_string_refuses_what_lua_cannot_read_as_json():
    assert lua_string('a"b\\c') == '"a\\"b\\\\c"'
    for bad in ("café", "line\nbreak"):
        with pytest.raises(ValueError):
            lua_string(bad)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unsorted on purpose
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_flat_after_warmup_ignores_the_warm_up_and_catches_a_climb():
    assert flat_after_warmup([14, 60, 63, 58, 65])  # 14 -> 60 is warm-up
    assert not flat_after_warmup([14, 60, 63, 70, 90])
    assert not flat_after_warmup([85, 100, 89])
    with pytest.raises(ValueError):
        flat_after_warmup([1, 2])


def test_counter_total_sums_labels_and_says_when_absent():
    text = (
        "# HELP ringback_db_commits_total Commits.\n"
        "# TYPE ringback_db_commits_total counter\n"
        'ringback_db_commits_total{database="main"} 12.0\n'
        'ringback_db_commits_total{database="other"} 3.0\n'
        "ringback_db_commits_created 1.7e9\n"
        "ringback_enrollments_started_total 5.0\n"
    )
    assert counter_total(text, "ringback_db_commits_total") == 15.0
    assert counter_total(text, "ringback_enrollments_started_total") == 5.0
    assert counter_total("ringback_other_total 1.0\n", "ringback_db_commits_total") is None


def test_per_lead():
    assert per_lead(30.0, 10) == 3.0
    assert per_lead(None, 10) is None
    assert per_lead(5.0, 0) is None


def test_pooled_percentile_weighs_each_run_by_its_requests():
    grid = [float(v) for v in range(1, 101)]  # one run's quantiles at 1 %, 2 %, ... 100 %
    assert pooled_percentile([(500, grid)], 50) == percentile(grid, 50)
    assert pooled_percentile([(500, grid), (500, grid)], 99) == 99
    fast, slow = [1.0] * 10, [100.0] * 10
    assert pooled_percentile([(900, fast), (100, slow)], 90) == 1.0  # 90 % of all requests were the fast node's
    assert pooled_percentile([(900, fast), (100, slow)], 91) == 100.0
    assert pooled_percentile([(0, slow), (10, fast)], 99) == 1.0  # a run without requests weighs nothing
    with pytest.raises(ValueError):
        pooled_percentile([(0, grid)], 50)


def test_split_evenly_gives_the_remainder_to_the_first_nodes():
    assert split_evenly(8, 1) == [8]
    assert split_evenly(8, 3) == [3, 3, 2]
    assert sum(split_evenly(9, 4)) == 9
    with pytest.raises(ValueError):
        split_evenly(2, 3)
