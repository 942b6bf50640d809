package fridge.jobs.sensorwindow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fridge.jobs.sensorwindow.mqtt.MqttRecordParser;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReadingJsonTest {
    private static MqttRecordParser.Parsed<SensorReading> parse(String json) throws Exception {
        return new ReadingJson().parse("sensors/x/readings", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsAReadingAndItsDefaultId() throws Exception {
        MqttRecordParser.Parsed<SensorReading> p = parse(new String(ReadingJson.reading("sensor-3", 42, 21.5, 1767225600000L), StandardCharsets.UTF_8));
        assertEquals("sensor-3/42", p.id());
        assertEquals("sensor-3", p.value().sensorId);
        assertEquals(42, p.value().sensorSequence);
        assertEquals(21.5, p.value().value);
        assertEquals(1767225600000L, p.value().timestamp);
    }

    @Test
    void anExplicitIdWins() throws Exception {
        assertEquals("m-7", parse("{\"sensor\":\"s\",\"seq\":1,\"value\":2,\"id\":\"m-7\"}").id());
    }

    @Test
    void refusesWhatIsNotAReading() {
        assertThrows(Exception.class, () -> parse("not json"));
        assertThrows(IllegalArgumentException.class, () -> parse("[1]"));
        assertThrows(IllegalArgumentException.class, () -> parse("{\"seq\":1,\"value\":2}"));
        assertThrows(IllegalArgumentException.class, () -> parse("{\"sensor\":\"s\",\"seq\":1.5,\"value\":2}"));
        assertThrows(IllegalArgumentException.class, () -> parse("{\"sensor\":\"s\",\"seq\":1,\"value\":\"2\"}"));
    }

    @Test
    void writesAWindowResult() {
        WindowStats s = new WindowStats();
        s.sensorId = "sensor-1";
        s.windowStart = 1000;
        s.windowEnd = 2000;
        s.count = 3;
        s.avg = 1.5;
        s.min = 1;
        s.max = 2;
        s.runningCount = 30;
        s.newestTimestamp = 1990;
        assertEquals("{\"sensor\":\"sensor-1\",\"windowStart\":1000,\"windowEnd\":2000,\"count\":3,\"mean\":1.5,\"min\":1.0,"
                        + "\"max\":2.0,\"runningCount\":30,\"newestTs\":1990,\"publishedAt\":2005}",
                new String(ReadingJson.result(s, 2005), StandardCharsets.UTF_8));
        assertEquals("fridge/results/sensor-1", ReadingJson.resultTopic("fridge/results/{sensor}", "sensor-1"));
    }
}
