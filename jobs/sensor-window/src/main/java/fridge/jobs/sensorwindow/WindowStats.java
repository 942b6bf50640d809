package fridge.jobs.sensorwindow;

/** Aggregate of one sensor over one tumbling window. */
public class WindowStats {
    public String sensorId;
    public long windowStart;
    public long windowEnd;
    public long count;
    public double min;
    public double max;
    public double avg;
    /** The sensor's running count at the last reading of the window. */
    public long runningCount;
    /** The newest reading's sensor timestamp (ms since the epoch): result time minus this is the latency. */
    public long newestTimestamp;

    public WindowStats() {}

    @Override
    public String toString() {
        // One greppable line per window; the integration test and humans read it from the TaskManager's stdout.
        return String.format(
                java.util.Locale.ROOT,
                "sensor-window %s window=[%d,%d) n=%d avg=%.3f min=%.3f max=%.3f runningCount=%d",
                sensorId, windowStart, windowEnd, count, avg, min, max, runningCount);
    }
}
