package fridge.jobs.sensorwindow;

/** One reading of one sensor. A Flink POJO (public fields, no-arg constructor) so Flink serialises it itself. */
public class SensorReading {
    public String sensorId;
    public double value;
    /** Position in the generated sequence: makes every run produce the same readings. */
    public long sequence;
    /** This sensor's reading number: 0, 1, 2, ... with no holes, so a lost or repeated reading shows. */
    public long sensorSequence;
    /** Readings of this sensor seen since the job first started, carried across savepoints (keyed state). */
    public long runningCount;
    /** When the sensor took it (ms since the epoch, the sensor's clock): the window results carry the newest, for latency. */
    public long timestamp;

    public SensorReading() {}

    public SensorReading(String sensorId, double value, long sequence) {
        this.sensorId = sensorId;
        this.value = value;
        this.sequence = sequence;
    }
}
