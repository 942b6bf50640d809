package fridge.jobs.sensorwindow;

import org.apache.flink.api.common.functions.AggregateFunction;

/** Incremental min/max/avg so a window holds one accumulator per sensor, not every reading. */
public class StatsAggregate implements AggregateFunction<SensorReading, WindowStats, WindowStats> {
    @Override
    public WindowStats createAccumulator() {
        WindowStats acc = new WindowStats();
        acc.min = Double.POSITIVE_INFINITY;
        acc.max = Double.NEGATIVE_INFINITY;
        return acc;
    }

    @Override
    public WindowStats add(SensorReading r, WindowStats acc) {
        acc.sensorId = r.sensorId;
        acc.count += 1;
        acc.min = Math.min(acc.min, r.value);
        acc.max = Math.max(acc.max, r.value);
        // avg holds the running sum until getResult.
        acc.avg += r.value;
        acc.runningCount = Math.max(acc.runningCount, r.runningCount);
        acc.newestTimestamp = Math.max(acc.newestTimestamp, r.timestamp);
        return acc;
    }

    @Override
    public WindowStats getResult(WindowStats acc) {
        WindowStats out = new WindowStats();
        out.sensorId = acc.sensorId;
        out.count = acc.count;
        out.min = acc.min;
        out.max = acc.max;
        out.avg = acc.count == 0 ? 0.0 : acc.avg / acc.count;
        out.runningCount = acc.runningCount;
        out.newestTimestamp = acc.newestTimestamp;
        return out;
    }

    @Override
    public WindowStats merge(WindowStats a, WindowStats b) {
        WindowStats m = createAccumulator();
        m.sensorId = a.sensorId != null ? a.sensorId : b.sensorId;
        m.count = a.count + b.count;
        m.min = Math.min(a.min, b.min);
        m.max = Math.max(a.max, b.max);
        m.avg = a.avg + b.avg;
        m.runningCount = Math.max(a.runningCount, b.runningCount);
        m.newestTimestamp = Math.max(a.newestTimestamp, b.newestTimestamp);
        return m;
    }
}
