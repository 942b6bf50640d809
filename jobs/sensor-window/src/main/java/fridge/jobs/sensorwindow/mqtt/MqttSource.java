package fridge.jobs.sensorwindow.mqtt;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.Serializable;
import java.util.List;

/**
 * An exactly-once MQTT source on Flink's Source API and Eclipse Paho: subscribes with QoS 1 in a persistent session
 * (cleanSession=false, a stable client id), acknowledges each message only after the checkpoint that covers it
 * completes, and drops redeliveries of messages a restored checkpoint already holds, by the id the parser gives
 * each message (the pattern of Flink's RabbitMQ source; see {@link AckLedger}). Together with exactly-once state
 * downstream, every message published with QoS 1 while the session exists counts exactly once across failures,
 * restarts from checkpoints and stop-with-savepoint/resume.
 *
 * <p>One session, so run it at parallelism 1 (every subscriber of a filter receives every message). The broker
 * must let a session hold more unacknowledged messages than arrive in a checkpoint interval (Mosquitto:
 * {@code max_inflight_messages 0}) and queue what arrives while the job is down ({@code max_queued_messages}).
 */
public final class MqttSource<T> implements Source<T, MqttSplit, List<MqttSplit>>, ResultTypeQueryable<T> {
    /** The one split's id. */
    public static final String SPLIT_ID = "0";

    /**
     * What the source connects with.
     *
     * @param failBeforeAckAtCheckpoint test hook: when > 0, the reader throws when the N-th checkpoint of a fresh
     *     split completes, before acknowledging it, so the job restores that checkpoint while the broker still
     *     redelivers what it covers (exercises the de-duplication)
     */
    public record Config(String url, List<String> topics, String clientIdPrefix, long failBeforeAckAtCheckpoint)
            implements Serializable {
        public Config {
            topics = List.copyOf(topics);
            if (topics.isEmpty()) throw new IllegalArgumentException("no MQTT topic filter");
        }
    }

    /** The MQTT client id of a split's session: the same across restarts, so the broker keeps the session. */
    public static String clientId(String prefix, String splitId) {
        return prefix + "-source-" + splitId;
    }

    private final Config config;
    private final MqttRecordParser<T> parser;
    private final TypeInformation<T> type;

    public MqttSource(Config config, MqttRecordParser<T> parser, TypeInformation<T> type) {
        this.config = config;
        this.parser = parser;
        this.type = type;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<T, MqttSplit> createReader(SourceReaderContext context) {
        return new MqttSourceReader<>(config, parser, context);
    }

    @Override
    public SplitEnumerator<MqttSplit, List<MqttSplit>> createEnumerator(SplitEnumeratorContext<MqttSplit> context) {
        return new MqttEnumerator(context, List.of(MqttSplit.fresh(SPLIT_ID)));
    }

    @Override
    public SplitEnumerator<MqttSplit, List<MqttSplit>> restoreEnumerator(
            SplitEnumeratorContext<MqttSplit> context, List<MqttSplit> unassigned) {
        return new MqttEnumerator(context, unassigned);
    }

    @Override
    public SimpleVersionedSerializer<MqttSplit> getSplitSerializer() {
        return MqttSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<List<MqttSplit>> getEnumeratorCheckpointSerializer() {
        return MqttSplit.ListSerializer.INSTANCE;
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return type;
    }
}
