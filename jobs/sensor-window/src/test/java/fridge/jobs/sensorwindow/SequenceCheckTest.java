package fridge.jobs.sensorwindow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SequenceCheckTest {
    private static SequenceCheck feed(SequenceCheck start, long... sequences) {
        SequenceCheck c = start;
        for (long s : sequences) c = SequenceCheck.observe(c, s);
        return c;
    }

    private static void assertCheck(long highest, long gaps, long duplicates, SequenceCheck c) {
        assertEquals(highest, c.highest, "highest");
        assertEquals(gaps, c.gaps, "gaps");
        assertEquals(duplicates, c.duplicates, "duplicates");
    }

    @Test
    void aDenseSequenceHasNoGapsNorDuplicates() {
        assertCheck(4, 0, 0, feed(null, 0, 1, 2, 3, 4));
    }

    @Test
    void everySkippedNumberIsAGap() {
        assertCheck(9, 5, 0, feed(null, 0, 1, 5, 6, 9));
    }

    @Test
    void aNumberAtOrBelowTheHighestIsADuplicateAndDoesNotMoveTheHighest() {
        assertCheck(3, 0, 3, feed(null, 0, 1, 2, 3, 3, 1, 2));
    }

    @Test
    void aReplayFromAnOlderPositionCountsEveryReplayedReading() {
        // Restored state at 5, source restarted at 3: 3, 4, 5 are counted twice, then it goes on.
        assertCheck(7, 0, 3, feed(SequenceCheck.first(5), 3, 4, 5, 6, 7));
    }

    @Test
    void aSensorWithoutHistoryStartsWhereItIs() {
        // Resumed from a savepoint taken before these counters existed: earlier readings are not lost ones.
        assertCheck(1000, 0, 0, feed(null, 1000));
        assertCheck(1001, 0, 0, feed(null, 1000, 1001));
    }

    @Test
    void readingsGiveEachSensorItsOwnDenseSequence() {
        Readings r = new Readings(3);
        long[] expected = {0, 0, 0, 1, 1, 1, 2};
        String[] sensors = {"sensor-0", "sensor-1", "sensor-2", "sensor-0", "sensor-1", "sensor-2", "sensor-0"};
        for (int i = 0; i < expected.length; i++) {
            SensorReading x = r.map((long) i);
            assertEquals(sensors[i], x.sensorId);
            assertEquals(expected[i], x.sensorSequence);
            assertEquals(i, x.sequence);
        }
    }
}
