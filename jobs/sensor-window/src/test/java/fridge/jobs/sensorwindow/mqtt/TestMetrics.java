package fridge.jobs.sensorwindow.mqtt;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A metric reporter for the MiniCluster of the tests: keeps the live metrics in memory, so a test reads a job's
 * counters and gauges directly (registered as a service in src/test/resources, configured by the test).
 */
public final class TestMetrics implements MetricReporter {
    private record Registered(String job, String name, Metric metric) {}

    private static final List<Registered> LIVE = new CopyOnWriteArrayList<>();

    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new TestMetrics();
        }
    }

    /** The sum of a counter or numeric gauge over the live metrics of that name in that job (all subtasks). */
    public static long sum(String job, String name) {
        long total = 0;
        for (Registered r : LIVE) {
            if (!r.job().equals(job) || !r.name().equals(name)) continue;
            if (r.metric() instanceof Counter c) total += c.getCount();
            else if (r.metric() instanceof Gauge<?> g && g.getValue() instanceof Number n) total += n.longValue();
        }
        return total;
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        String job = group.getAllVariables().get("<job_name>");
        if (job != null) LIVE.add(new Registered(job, name, metric));
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        LIVE.removeIf(r -> r.metric() == metric);
    }
}
