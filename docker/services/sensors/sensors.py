#!/usr/bin/env python3
"""Fridge's sensor simulator: SENSORS_COUNT sensors (sensor-0 .. sensor-N-1), each publishing SENSORS_RATE
readings a second to Mosquitto, in the format jobs/sensor-window/README.md documents:

    sensors/<sensor>/readings   {"sensor": "sensor-3", "seq": 42, "value": 21.5, "ts": 1767225600000}

QoS 1, not retained, each sensor numbering its readings 0, 1, 2, ... The numbers survive a restart of this
container (a volume holds them), so the job's sequence check sees no duplicates from a restarted simulator; after
an unclean stop the sensors skip ahead rather than reuse numbers (the job then reports gaps, not duplicates).

It also subscribes to the job's window results (RESULTS_TOPIC) and keeps, retained on STATS_TOPIC, the end-to-end
latency of the newest window: when its result arrived here minus the `ts` of the newest reading in it (`newestTs`).
Both times are this container's clock, so no clock offset between machines enters the figure.

Python and Debian's paho-mqtt, not a JVM: it runs beside Mosquitto and Prometheus on a 1 GiB Pi."""

import json
import math
import os
import random
import signal
import sys
import threading
import time

import paho.mqtt.client as mqtt

HOST = os.environ.get("MQTT_HOST", "mosquitto")
PORT = int(os.environ.get("MQTT_PORT", "1883"))
COUNT = int(os.environ.get("SENSORS_COUNT", "10"))
RATE = float(os.environ.get("SENSORS_RATE", "1"))
READINGS_TOPIC = os.environ.get("READINGS_TOPIC", "sensors/{sensor}/readings")
RESULTS_TOPIC = os.environ.get("RESULTS_TOPIC", "sensors/+/results")
STATS_TOPIC = os.environ.get("STATS_TOPIC", "fridge/pipeline/stats")
STATE_FILE = os.path.join(os.environ.get("STATE_DIR", "/var/lib/fridge-sensors"), "state.json")
CLIENT_ID = os.environ.get("MQTT_CLIENT_ID", "fridge-sensors")
# Readings waiting for the broker while it is away (about 1 KB each in paho): beyond this they are dropped, and
# the job's sequence check counts them as lost, rather than the container running out of memory.
MAX_QUEUED = 10000
# How often the sequence numbers are saved, and so how far the sensors skip ahead after an unclean stop.
SAVE_SECONDS = 1.0

SENSORS = [f"sensor-{i}" for i in range(COUNT)]
stop = threading.Event()


def log(msg):
    print(f"fridge-sensors: {msg}", flush=True)


def now_ms():
    return int(time.time() * 1000)


def load_state():
    """The next number of each sensor; after an unclean stop, past every number that may have been published."""
    try:
        with open(STATE_FILE, encoding="utf-8") as f:
            state = json.load(f)
        saved = {k: int(v) for k, v in state.get("next", {}).items()}
        clean = bool(state.get("clean"))
    except (OSError, ValueError, AttributeError):
        return {s: 0 for s in SENSORS}
    skip = 0 if clean else int(math.ceil(RATE * (SAVE_SECONDS + 1))) + 1
    if saved:
        log(f"resuming the sensors' numbering{'' if clean else f' {skip} past the last save (unclean stop)'}")
    return {s: saved[s] + skip if s in saved else 0 for s in SENSORS}


def save_state(next_seq, clean):
    tmp = f"{STATE_FILE}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"next": next_seq, "clean": clean}, f)
        os.replace(tmp, STATE_FILE)
    except OSError as e:
        log(f"cannot save the sequence numbers in {STATE_FILE}: {e}")


class Latency:
    """The newest window's results as they arrive: how many, and the largest end-to-end latency among them."""

    def __init__(self, client):
        self.client = client
        self.window_end = 0
        self.window_start = 0
        self.results = 0
        self.latency_ms = 0
        self.published = 0

    def on_result(self, payload):
        try:
            r = json.loads(payload)
            end, start, newest = int(r["windowEnd"]), int(r["windowStart"]), int(r["newestTs"])
        except (ValueError, KeyError, TypeError):
            return
        # Results re-published after the job restored a checkpoint belong to older windows: not the newest.
        if end < self.window_end:
            return
        if end > self.window_end:
            self.window_end, self.window_start, self.results, self.latency_ms = end, start, 0, 0
        self.results += 1
        self.latency_ms = max(self.latency_ms, now_ms() - newest)
        self.client.publish(STATS_TOPIC, json.dumps({
            "sensors": COUNT,
            "rate": RATE,
            "published": self.published,
            "windowStart": self.window_start,
            "windowEnd": self.window_end,
            "results": self.results,
            "latencyMs": self.latency_ms,
            "at": now_ms(),
        }), qos=0, retain=True)


def value(i, t):
    # Room temperatures drifting slowly, each sensor a little apart: enough for the windows' min/mean/max to differ.
    return round(21.0 + 3.0 * math.sin(t / 120.0 + i) + random.gauss(0.0, 0.3), 3)


def main():
    if COUNT < 1 or RATE <= 0:
        log(f"SENSORS_COUNT must be >= 1 and SENSORS_RATE > 0 (got {COUNT}, {RATE})")
        return 2
    os.makedirs(os.path.dirname(STATE_FILE), exist_ok=True)
    next_seq = load_state()
    # Marked unclean from the start: a kill before the first periodic save must not reuse these numbers either.
    save_state(next_seq, clean=False)
    # paho 2 asks which callback signature is meant; Debian bookworm's 1.6 has only this one.
    extra = {"callback_api_version": mqtt.CallbackAPIVersion.VERSION1} if hasattr(mqtt, "CallbackAPIVersion") else {}
    client = mqtt.Client(client_id=CLIENT_ID, clean_session=True, protocol=mqtt.MQTTv311, **extra)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(MAX_QUEUED)
    client.reconnect_delay_set(1, 10)
    latency = Latency(client)

    def on_connect(c, _userdata, _flags, rc):
        if rc != 0:
            log(f"broker {HOST}:{PORT} refused the connection: {mqtt.connack_string(rc)}")
            return
        log(f"connected to {HOST}:{PORT}: {COUNT} sensors, {RATE:g} readings/s each, on {READINGS_TOPIC}")
        if RESULTS_TOPIC:
            c.subscribe(RESULTS_TOPIC, qos=0)

    def on_disconnect(_c, _userdata, rc):
        if rc != 0 and not stop.is_set():
            log(f"lost the broker ({mqtt.error_string(rc)}); reconnecting")

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = lambda _c, _u, msg: latency.on_result(msg.payload)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    # The broker may start after this container: connect_async + loop_start keep trying in the background.
    client.connect_async(HOST, PORT, keepalive=30)
    client.loop_start()

    interval = 1.0 / (COUNT * RATE)
    due = time.monotonic()
    saved_at = due
    i = 0
    dropped = 0
    last_info = None
    report_at = due + 60
    while not stop.is_set():
        t = time.monotonic()
        if t < due:
            stop.wait(due - t)
            continue
        # Behind by more than a second (the machine was busy or suspended): carry on from now instead of bursting.
        if t - due > 1.0:
            due = t
        sensor = SENSORS[i]
        seq = next_seq[sensor]
        next_seq[sensor] = seq + 1
        payload = json.dumps({"sensor": sensor, "seq": seq, "value": value(i, time.time()), "ts": now_ms()})
        info = client.publish(READINGS_TOPIC.replace("{sensor}", sensor), payload, qos=1, retain=False)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            dropped += 1
        else:
            last_info = info
            latency.published += 1
        i = (i + 1) % COUNT
        due += interval
        if t - saved_at >= SAVE_SECONDS:
            save_state(next_seq, clean=False)
            saved_at = t
        if t >= report_at:
            log(f"{latency.published} readings published, {dropped} dropped while the broker was away")
            report_at = t + 60

    # A clean stop: let the broker acknowledge what is in flight, then remember exactly where each sensor is.
    if last_info is not None:
        try:
            last_info.wait_for_publish(5)
        except (ValueError, RuntimeError):
            pass
    save_state(next_seq, clean=True)
    client.disconnect()
    client.loop_stop()
    log(f"stopped after {latency.published} readings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
