package fridge.jobs.sensorwindow.mqtt;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * Reads its split's MQTT session. Paho's threads only queue what arrives; everything else (parsing, the
 * {@link AckLedger}, acknowledgements) happens on the task thread. A lost connection fails the reader: the job
 * then restarts from its last checkpoint and the broker redelivers what was not acknowledged.
 */
final class MqttSourceReader<T> implements SourceReader<T, MqttSplit> {
    private static final Logger LOG = LoggerFactory.getLogger(MqttSourceReader.class);
    /** Unsubscribed from after each batch of acknowledgements: its answer proves the broker has read them. */
    static final String ACK_BARRIER_TOPIC = "fridge/sensor-window/ack-barrier";
    private static final long TIMEOUT_MS = 15_000;
    private static final int QOS = 1;

    /** What Paho's threads hand to the task thread: a message, or the end of the connection. */
    private sealed interface Event permits Delivery, Lost {}

    private record Delivery(Session session, String topic, MqttMessage message) implements Event {}

    private record Lost(Session session, Throwable cause) implements Event {}

    private record Confirming(IMqttToken roundTrip, AckLedger.Batch<Integer> batch) {}

    private final MqttSource.Config config;
    private final MqttRecordParser<T> parser;
    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private final Object availability = new Object();
    private CompletableFuture<Void> available = new CompletableFuture<>();
    private final Map<String, Session> sessions = new LinkedHashMap<>();
    private final Counter duplicates;
    private final Counter skipped;
    private volatile int held;

    MqttSourceReader(MqttSource.Config config, MqttRecordParser<T> parser, SourceReaderContext context) {
        this.config = config;
        this.parser = parser;
        this.duplicates = context.metricGroup().counter("mqttDuplicatesDropped");
        this.skipped = context.metricGroup().counter("mqttMessagesSkipped");
        context.metricGroup().gauge("mqttHeldIds", (Gauge<Integer>) () -> held);
    }

    @Override
    public void start() {}

    @Override
    public void addSplits(List<MqttSplit> splits) {
        for (MqttSplit split : splits) {
            Session s = new Session(config, split, this::enqueue);
            sessions.put(split.splitId(), s);
            s.connect();
        }
    }

    @Override
    public void notifyNoMoreSplits() {}

    @Override
    public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
        Event e = queue.poll();
        if (e == null) return InputStatus.NOTHING_AVAILABLE;
        if (e instanceof Lost lost) {
            throw new IOException("MQTT: " + lost.session().clientId + " lost its connection to " + config.url()
                    + " (the job restarts from its last checkpoint; the broker redelivers what was not acknowledged)",
                    lost.cause());
        }
        Delivery d = (Delivery) e;
        Session s = d.session();
        MqttMessage m = d.message();
        Integer handle = m.getQos() > 0 ? m.getId() : null;
        if (m.isRetained()) {
            // A retained message replayed by the (re)subscription: the last reading again, not a new one.
            s.ledger.skip(handle);
            skipped.inc();
        } else {
            MqttRecordParser.Parsed<T> parsed = parse(d.topic(), m.getPayload());
            if (parsed == null) {
                s.ledger.skip(handle);
                skipped.inc();
            } else if (s.ledger.receive(parsed.id(), handle)) {
                output.collect(parsed.value());
            } else {
                duplicates.inc();
            }
        }
        return queue.isEmpty() ? InputStatus.NOTHING_AVAILABLE : InputStatus.MORE_AVAILABLE;
    }

    private MqttRecordParser.Parsed<T> parse(String topic, byte[] payload) {
        try {
            return parser.parse(topic, payload);
        } catch (Exception ex) {
            if (skipped.getCount() < 10) {
                LOG.warn("MQTT: skipping a message on {} that is not a reading: {}", topic, ex.toString());
            }
            return null;
        }
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        synchronized (availability) {
            if (!queue.isEmpty()) return CompletableFuture.completedFuture(null);
            if (available.isDone()) available = new CompletableFuture<>();
            return available;
        }
    }

    /** From Paho's threads. */
    private void enqueue(Event e) {
        queue.add(e);
        synchronized (availability) {
            available.complete(null);
        }
    }

    @Override
    public List<MqttSplit> snapshotState(long checkpointId) {
        List<MqttSplit> out = new ArrayList<>();
        int n = 0;
        for (Session s : sessions.values()) {
            s.confirmAnswered();
            List<String> ids = s.ledger.snapshot(checkpointId);
            n += ids.size();
            out.add(new MqttSplit(s.split.splitId(), ids, true));
        }
        held = n;
        return out;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        for (Session s : sessions.values()) s.checkpointComplete(checkpointId);
    }

    @Override
    public void close() {
        for (Session s : sessions.values()) s.close();
        sessions.clear();
    }

    /** One split's client, ledger and acknowledgements waiting for their round trip. */
    private static final class Session implements MqttCallback {
        final MqttSource.Config config;
        final MqttSplit split;
        final Consumer<Event> events;
        final String clientId;
        final AckLedger<Integer> ledger = new AckLedger<>();
        final List<Confirming> confirming = new ArrayList<>();
        MqttAsyncClient client;
        long completions;

        Session(MqttSource.Config config, MqttSplit split, Consumer<Event> events) {
            this.config = config;
            this.split = split;
            this.events = events;
            this.clientId = MqttSource.clientId(config.clientIdPrefix(), split.splitId());
            ledger.restore(split.heldIds());
        }

        void connect() {
            try {
                client = new MqttAsyncClient(config.url(), clientId, new MemoryPersistence());
                client.setCallback(this);
                // Before connecting: the broker redelivers unacknowledged messages right after CONNACK.
                client.setManualAcks(true);
                MqttConnectOptions o = new MqttConnectOptions();
                o.setCleanSession(false);
                o.setAutomaticReconnect(false);
                o.setConnectionTimeout(10);
                o.setKeepAliveInterval(30);
                o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
                client.connect(o).waitForCompletion(TIMEOUT_MS);
                String[] topics = config.topics().toArray(String[]::new);
                int[] qos = new int[topics.length];
                Arrays.fill(qos, QOS);
                IMqttToken sub = client.subscribe(topics, qos);
                sub.waitForCompletion(TIMEOUT_MS);
                for (int g : sub.getGrantedQos()) {
                    if (g == 0x80) throw new IOException("the broker refused the subscription to " + config.topics());
                }
                LOG.info("MQTT: {} connected to {} (persistent session), subscribed to {} with QoS {}, {} ids held",
                        clientId, config.url(), config.topics(), QOS, split.heldIds().size());
            } catch (MqttException | IOException ex) {
                close();
                throw new IllegalStateException("MQTT: " + clientId + " cannot connect to " + config.url()
                        + " and subscribe to " + config.topics() + ": " + ex.getMessage(), ex);
            }
        }

        void checkpointComplete(long checkpointId) throws MqttException {
            if (config.failBeforeAckAtCheckpoint() > 0 && !split.checkpointed()
                    && ++completions == config.failBeforeAckAtCheckpoint()) {
                throw new IllegalStateException("sensor-window: the MQTT source fails before acknowledging checkpoint "
                        + checkpointId + " as asked (--mqtt-fail-before-ack)");
            }
            confirmAnswered();
            AckLedger.Batch<Integer> batch = ledger.complete(checkpointId);
            if (batch.isEmpty()) return;
            for (Integer packetId : batch.handles()) client.messageArrivedComplete(packetId, QOS);
            // Sent after the acknowledgements on the same connection: once answered, the broker has read them.
            confirming.add(new Confirming(client.unsubscribe(ACK_BARRIER_TOPIC), batch));
        }

        /** Batches whose round trip came back: their ids need no de-duplication any more. */
        void confirmAnswered() {
            for (Iterator<Confirming> it = confirming.iterator(); it.hasNext(); ) {
                Confirming c = it.next();
                if (!c.roundTrip().isComplete()) continue;
                // A failed round trip (connection lost) leaves the ids held: the reader fails on the lost connection.
                if (c.roundTrip().getException() == null) ledger.confirm(c.batch());
                it.remove();
            }
        }

        void close() {
            MqttAsyncClient c = client;
            client = null;
            if (c == null) return;
            try {
                if (c.isConnected()) c.disconnect(1_000).waitForCompletion(3_000);
            } catch (MqttException ex) {
                try {
                    c.disconnectForcibly(0, 1_000);
                } catch (MqttException ignored) {
                    // closing anyway
                }
            }
            try {
                c.close(true);
            } catch (MqttException ex) {
                LOG.debug("MQTT: closing {}: {}", clientId, ex.toString());
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            events.accept(new Lost(this, cause));
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            events.accept(new Delivery(this, topic, message));
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {}
    }
}
