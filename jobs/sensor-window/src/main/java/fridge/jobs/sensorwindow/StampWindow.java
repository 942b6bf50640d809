package fridge.jobs.sensorwindow;

import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Adds the window's bounds to the aggregate. */
public class StampWindow extends ProcessWindowFunction<WindowStats, WindowStats, String, TimeWindow> {
    @Override
    public void process(String sensorId, Context ctx, Iterable<WindowStats> stats, Collector<WindowStats> out) {
        for (WindowStats s : stats) {
            s.sensorId = sensorId;
            s.windowStart = ctx.window().getStart();
            s.windowEnd = ctx.window().getEnd();
            out.collect(s);
        }
    }
}
