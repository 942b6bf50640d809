package fridge.jobs.sensorwindow;

import org.apache.flink.connector.datagen.source.GeneratorFunction;

/** Deterministic readings: index i belongs to sensor (i mod sensors); the value is a smooth function of i. */
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
        return new SensorReading("sensor-" + sensor, value, index);
    }
}
