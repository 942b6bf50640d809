package fridge.jobs.sensorwindow;

import java.util.HashMap;
import java.util.Map;

/**
 * The sum over sensors of one per-sensor number, for a gauge: each sensor's latest value replaces its earlier
 * one. Sensors this subtask has not seen since it started are not in it yet; every sensor reports within one
 * round of readings, so right after a restore the sum is the restored one, not zero.
 */
final class SensorSums {
    private final Map<String, Long> latest = new HashMap<>();
    // Read by the metric reporter's thread while the task thread writes it.
    private volatile long total;

    void update(String sensor, long value) {
        Long before = latest.put(sensor, value);
        total += value - (before == null ? 0L : before);
    }

    long total() {
        return total;
    }
}
