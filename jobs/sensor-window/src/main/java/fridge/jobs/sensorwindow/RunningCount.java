package fridge.jobs.sensorwindow;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.HashMap;
import java.util.Map;

/**
 * Counts readings per sensor in keyed state, so the count survives a stop-with-savepoint and restore.
 *
 * <p>The gauge {@code readingsTotal} is the sum of the counts of the sensors this subtask has seen since it
 * started; every sensor reports within one round of readings, so right after a restore it already shows the
 * restored total instead of zero. It is read through Flink's REST API (vertex metrics).
 */
public class RunningCount extends KeyedProcessFunction<String, SensorReading, SensorReading> {
    public static final String GAUGE = "readingsTotal";

    private transient ValueState<Long> count;
    private transient Map<String, Long> lastCountBySensor;
    private transient long total;

    @Override
    public void open(OpenContext openContext) {
        count = getRuntimeContext().getState(new ValueStateDescriptor<>("running-count", Types.LONG));
        lastCountBySensor = new HashMap<>();
        total = 0L;
        getRuntimeContext().getMetricGroup().gauge(GAUGE, (Gauge<Long>) () -> total);
    }

    @Override
    public void processElement(SensorReading reading, Context ctx, Collector<SensorReading> out) throws Exception {
        Long previous = count.value();
        long next = (previous == null ? 0L : previous) + 1L;
        count.update(next);
        Long seen = lastCountBySensor.put(reading.sensorId, next);
        total += next - (seen == null ? 0L : seen);
        reading.runningCount = next;
        out.collect(reading);
    }
}
