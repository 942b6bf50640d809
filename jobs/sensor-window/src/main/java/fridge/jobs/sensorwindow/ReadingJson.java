package fridge.jobs.sensorwindow;

import fridge.jobs.sensorwindow.mqtt.MqttRecordParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;

/**
 * The job's MQTT payloads, JSON in UTF-8 (see the README). A reading:
 * {@code {"sensor":"sensor-3","seq":42,"value":21.5,"ts":1767225600000}} (optional {@code "id"}, default
 * {@code sensor/seq}: what redeliveries are recognised by). A window result: {@code {"sensor", "windowStart",
 * "windowEnd", "count", "mean", "min", "max", "runningCount", "newestTs", "publishedAt"}}.
 */
public final class ReadingJson implements MqttRecordParser<SensorReading> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Parsed<SensorReading> parse(String topic, byte[] payload) throws Exception {
        JsonNode n = JSON.readTree(payload);
        if (n == null || !n.isObject()) throw new IllegalArgumentException("not a JSON object");
        JsonNode sensor = n.get("sensor");
        JsonNode seq = n.get("seq");
        JsonNode value = n.get("value");
        if (sensor == null || !sensor.isTextual() || sensor.asText().isEmpty()) {
            throw new IllegalArgumentException("\"sensor\" (a non-empty string) is missing");
        }
        if (seq == null || !seq.canConvertToLong() || !seq.isIntegralNumber() || seq.asLong() < 0) {
            throw new IllegalArgumentException("\"seq\" (an integer >= 0) is missing");
        }
        if (value == null || !value.isNumber()) throw new IllegalArgumentException("\"value\" (a number) is missing");
        JsonNode ts = n.get("ts");
        JsonNode id = n.get("id");
        SensorReading r = new SensorReading(sensor.asText(), value.asDouble(), seq.asLong());
        r.sensorSequence = seq.asLong();
        r.timestamp = ts != null && ts.isIntegralNumber() ? ts.asLong() : System.currentTimeMillis();
        String key = id != null && id.isValueNode() && !id.asText().isEmpty() ? id.asText() : r.sensorId + "/" + r.sensorSequence;
        return new Parsed<>(key, r);
    }

    /** A reading as sensors publish it. */
    public static byte[] reading(String sensor, long seq, double value, long timestamp) {
        ObjectNode n = JSON.createObjectNode();
        n.put("sensor", sensor);
        n.put("seq", seq);
        n.put("value", value);
        n.put("ts", timestamp);
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A window result as the job publishes it (--mqtt-results-topic). */
    public static byte[] result(WindowStats s, long publishedAt) {
        ObjectNode n = JSON.createObjectNode();
        n.put("sensor", s.sensorId);
        n.put("windowStart", s.windowStart);
        n.put("windowEnd", s.windowEnd);
        n.put("count", s.count);
        n.put("mean", s.avg);
        n.put("min", s.min);
        n.put("max", s.max);
        n.put("runningCount", s.runningCount);
        n.put("newestTs", s.newestTimestamp);
        n.put("publishedAt", publishedAt);
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The topic of a sensor's results: {@code {sensor}} in the template is replaced by the sensor id. */
    public static String resultTopic(String template, String sensor) {
        return template.replace("{sensor}", sensor);
    }
}
