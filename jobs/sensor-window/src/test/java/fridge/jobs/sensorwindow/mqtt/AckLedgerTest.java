package fridge.jobs.sensorwindow.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class AckLedgerTest {
    private static Set<String> sorted(List<String> ids) {
        return new TreeSet<>(ids);
    }

    @Test
    void acknowledgesOnlyWhatTheCompletedCheckpointCovers() {
        AckLedger<Integer> l = new AckLedger<>();
        assertTrue(l.receive("a", 1));
        assertTrue(l.receive("b", 2));
        assertEquals(Set.of("a", "b"), sorted(l.snapshot(1)));
        assertTrue(l.receive("c", 3));
        assertTrue(l.complete(0).isEmpty(), "nothing before checkpoint 1");
        AckLedger.Batch<Integer> b1 = l.complete(1);
        assertEquals(List.of(1, 2), b1.handles());
        assertEquals(List.of("a", "b"), b1.ids());
        assertTrue(l.complete(1).isEmpty(), "acknowledged once");
        // Not confirmed yet: still held, still in checkpoints.
        assertEquals(Set.of("a", "b", "c"), sorted(l.snapshot(2)));
        l.confirm(b1);
        assertEquals(Set.of("c"), sorted(l.snapshot(3)));
        assertEquals(List.of(3), l.complete(3).handles(), "a skipped notification is covered by a later one");
    }

    @Test
    void dropsARedeliveryOfAHeldIdAndAcknowledgesItWithTheNextCheckpoint() {
        AckLedger<Integer> l = new AckLedger<>();
        assertTrue(l.receive("a", 1));
        l.snapshot(1);
        assertFalse(l.receive("a", 7), "redelivered while held");
        AckLedger.Batch<Integer> b1 = l.complete(1);
        l.confirm(b1);
        assertEquals(Set.of("a"), sorted(l.snapshot(2)), "the duplicate holds it until its own ack is confirmed");
        AckLedger.Batch<Integer> b2 = l.complete(2);
        assertEquals(List.of(7), b2.handles());
        l.confirm(b2);
        assertEquals(Set.of(), sorted(l.snapshot(3)));
    }

    @Test
    void afterARestoreDropsRedeliveriesOfRestoredIdsThenForgetsTheRest() {
        AckLedger<Integer> l = new AckLedger<>();
        l.restore(List.of("a", "b", "c"));
        assertFalse(l.receive("a", 1), "redelivered: already counted by the restored checkpoint");
        assertFalse(l.receive("b", 2));
        assertTrue(l.receive("d", 3), "a new message");
        // c was acknowledged before the failure (never redelivered): held until the next checkpoint is confirmed.
        assertEquals(Set.of("a", "b", "c", "d"), sorted(l.snapshot(5)));
        AckLedger.Batch<Integer> b = l.complete(5);
        assertEquals(List.of(1, 2, 3), b.handles());
        l.confirm(b);
        assertEquals(Set.of(), sorted(l.snapshot(6)));
        assertTrue(l.receive("a", 9), "an id forgotten is new again");
    }

    @Test
    void restoredIdsStayHeldUntilANewMessageArrives() {
        AckLedger<Integer> l = new AckLedger<>();
        l.restore(List.of("a"));
        assertEquals(Set.of("a"), sorted(l.snapshot(1)));
        l.confirm(l.complete(1));
        assertEquals(Set.of("a"), sorted(l.snapshot(2)));
        assertFalse(l.receive("a", 4));
    }

    @Test
    void skippedMessagesAreAcknowledgedWithoutAnId() {
        AckLedger<Integer> l = new AckLedger<>();
        l.skip(5);
        l.skip(null);
        assertEquals(List.of(), l.snapshot(1));
        AckLedger.Batch<Integer> b = l.complete(1);
        assertEquals(List.of(5), b.handles());
        assertEquals(List.of(), b.ids());
    }
}
