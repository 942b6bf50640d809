package fridge.jobs.sensorwindow.mqtt;

import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One MQTT session: the reader that owns the split connects with the client id {@link MqttSource#clientId} and a
 * persistent session (cleanSession=false), so the broker keeps the subscription and every unacknowledged message
 * for it across restarts. The split's checkpointed state is the ids of the messages received but not yet
 * certainly acknowledged (see {@link AckLedger}).
 *
 * @param checkpointed true once the split came out of a checkpoint (false while it is the enumerator's fresh one):
 *     the test hook {@code failBeforeAckAtCheckpoint} fires only in a split's first run
 */
public record MqttSplit(String splitId, List<String> heldIds, boolean checkpointed) implements SourceSplit {
    public MqttSplit {
        heldIds = List.copyOf(heldIds);
    }

    /** A new session with nothing held. */
    public static MqttSplit fresh(String splitId) {
        return new MqttSplit(splitId, List.of(), false);
    }

    /** Version 1: splitId, checkpointed, count, ids (modified UTF-8). */
    public static final class Serializer implements SimpleVersionedSerializer<MqttSplit> {
        public static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(MqttSplit split) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                write(split, out);
            }
            return bytes.toByteArray();
        }

        @Override
        public MqttSplit deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) throw new IOException("unknown MQTT split version " + version);
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                return read(in);
            }
        }

        static void write(MqttSplit split, DataOutputStream out) throws IOException {
            out.writeUTF(split.splitId());
            out.writeBoolean(split.checkpointed());
            out.writeInt(split.heldIds().size());
            for (String id : split.heldIds()) out.writeUTF(id);
        }

        static MqttSplit read(DataInputStream in) throws IOException {
            String splitId = in.readUTF();
            boolean checkpointed = in.readBoolean();
            int n = in.readInt();
            List<String> ids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) ids.add(in.readUTF());
            return new MqttSplit(splitId, ids, checkpointed);
        }
    }

    /** The enumerator's checkpoint: its splits not yet assigned. Version 1: count, splits. */
    public static final class ListSerializer implements SimpleVersionedSerializer<List<MqttSplit>> {
        public static final ListSerializer INSTANCE = new ListSerializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(List<MqttSplit> splits) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(splits.size());
                for (MqttSplit s : splits) Serializer.write(s, out);
            }
            return bytes.toByteArray();
        }

        @Override
        public List<MqttSplit> deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) throw new IOException("unknown MQTT enumerator state version " + version);
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                int n = in.readInt();
                List<MqttSplit> splits = new ArrayList<>(n);
                for (int i = 0; i < n; i++) splits.add(Serializer.read(in));
                return splits;
            }
        }
    }
}
