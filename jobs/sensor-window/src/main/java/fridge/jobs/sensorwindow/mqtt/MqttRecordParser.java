package fridge.jobs.sensorwindow.mqtt;

import java.io.Serializable;

/** Turns one MQTT message into a record and the id it is de-duplicated by (unique per message, stable across redeliveries). */
@FunctionalInterface
public interface MqttRecordParser<T> extends Serializable {
    record Parsed<T>(String id, T value) {}

    /** Throws when the payload is not a record: the message is then skipped (and acknowledged with the next checkpoint). */
    Parsed<T> parse(String topic, byte[] payload) throws Exception;
}
