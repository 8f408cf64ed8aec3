import time
from pathlib import Path
from benchmarks import latency
from broadcast_tools.speech import TALK, synthesize
from tests.support.running_platform import serving_applied_platform
from tests.support.talk import stream_talk
talk = synthesize(TALK)
with serving_applied_platform(log_dir=Path("/tmp/latlogs")) as stack:
    result = stream_talk(stack.url, talk, chunk_ms=200, pace=1.0, wait_seconds=120, listeners=("es","fr","de"), complete=latency._complete(len(talk)/32000))
    t0 = result.sent_at[0]
    print("first chunk sent at", t0, time.time())
    for arrived, m in result.transcripts:
        if not m["isPartial"]:
            last = min(int(m["endTime"]*1000//200), max(result.sent_at))
            print("final", m["segmentId"], round(m["endTime"],2), "sent_end", round(result.sent_at[last]-t0,2), "arrived", round(arrived-t0,2))
