package fridge.jobs.sensorwindow;

import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * Deterministic readings: index i belongs to sensor (i mod sensors) and is that sensor's reading number
 * (i div sensors); the value is a smooth function of i. The index is the source's checkpointed position (the
 * DataGen split's next number), so a restore continues every sensor's sequence exactly where it was. The timestamp
 * is the time of generation (the only part that differs between runs).
 */
public class Readings implements GeneratorFunction<Long, SensorReading> {
    private final int sensors;

    public Readings(int sensors) {
        this.sensors = sensors;
    }

    @Override
    public SensorReading map(Long index) {
        int sensor = (int) (index % sensors);
        long round = index / sensors;
        double value = 20.0 + sensor + 5.0 * Math.sin(round / 10.0);
        SensorReading r = new SensorReading("sensor-" + sensor, value, index);
        r.sensorSequence = round;
        r.timestamp = System.currentTimeMillis();
        return r;
    }
}
