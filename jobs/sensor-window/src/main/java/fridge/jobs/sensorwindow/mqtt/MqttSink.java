package fridge.jobs.sensorwindow.mqtt;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.util.function.SerializableFunction;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.io.IOException;

/**
 * Publishes each record with QoS 1, waiting for the broker's acknowledgement before the next one: at-least-once
 * (a record published after the last checkpoint is published again after a restore). A clean session per writer
 * (client id {@code <prefix>-results-<subtask>}); a failed publish fails the task.
 */
public final class MqttSink<T> implements Sink<T> {
    private final String url;
    private final String clientIdPrefix;
    private final SerializableFunction<T, String> topic;
    private final SerializableFunction<T, byte[]> payload;

    public MqttSink(String url, String clientIdPrefix, SerializableFunction<T, String> topic,
            SerializableFunction<T, byte[]> payload) {
        this.url = url;
        this.clientIdPrefix = clientIdPrefix;
        this.topic = topic;
        this.payload = payload;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        String clientId = clientIdPrefix + "-results-" + context.getTaskInfo().getIndexOfThisSubtask();
        try {
            MqttClient client = new MqttClient(url, clientId, new MemoryPersistence());
            client.setTimeToWait(15_000);
            MqttConnectOptions o = new MqttConnectOptions();
            o.setCleanSession(true);
            o.setConnectionTimeout(10);
            o.setKeepAliveInterval(30);
            o.setAutomaticReconnect(true);
            // Publishes wait for their acknowledgement, but Paho counts one in flight a little past it.
            o.setMaxInflight(1000);
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            client.connect(o);
            return new Writer<>(client, topic, payload);
        } catch (MqttException ex) {
            throw new IOException("MQTT: " + clientId + " cannot connect to " + url + ": " + ex.getMessage(), ex);
        }
    }

    private static final class Writer<T> implements SinkWriter<T> {
        private final MqttClient client;
        private final SerializableFunction<T, String> topic;
        private final SerializableFunction<T, byte[]> payload;

        Writer(MqttClient client, SerializableFunction<T, String> topic, SerializableFunction<T, byte[]> payload) {
            this.client = client;
            this.topic = topic;
            this.payload = payload;
        }

        @Override
        public void write(T element, Context context) throws IOException {
            try {
                client.publish(topic.apply(element), payload.apply(element), 1, false);
            } catch (Exception ex) {
                throw new IOException("MQTT: publishing to " + client.getServerURI() + " failed: " + ex.getMessage(), ex);
            }
        }

        @Override
        public void flush(boolean endOfInput) {
            // Every publish already waited for its acknowledgement.
        }

        @Override
        public void close() throws Exception {
            try {
                if (client.isConnected()) client.disconnect(1_000);
            } catch (MqttException ex) {
                client.disconnectForcibly(0, 1_000);
            } finally {
                client.close(true);
            }
        }
    }
}
