package fridge.jobs.sensorwindow;

/**
 * One sensor's sequence bookkeeping: the highest sequence number seen, how many numbers were skipped (gaps:
 * readings lost) and how many arrived at or below the highest (duplicates: readings counted twice). Pure and
 * immutable, so the rule is unit-tested without Flink; RunningCount keeps its three numbers in keyed state.
 */
public final class SequenceCheck {
    public final long highest;
    public final long gaps;
    public final long duplicates;

    public SequenceCheck(long highest, long gaps, long duplicates) {
        this.highest = highest;
        this.gaps = gaps;
        this.duplicates = duplicates;
    }

    /**
     * The first reading of a sensor without history starts its sequence wherever it is: a job resumed from a
     * savepoint of a version without these counters has no highest to compare with, and must not report the
     * readings before that savepoint as lost.
     */
    public static SequenceCheck first(long sequence) {
        return new SequenceCheck(sequence, 0L, 0L);
    }

    /** After {@code sequence} arrived: the next one in order moves highest on; a skip counts every number missed. */
    public SequenceCheck next(long sequence) {
        if (sequence > highest) return new SequenceCheck(sequence, gaps + (sequence - highest - 1), duplicates);
        return new SequenceCheck(highest, gaps, duplicates + 1);
    }

    /** {@code previous} is null when the sensor has no history (see {@link #first}). */
    public static SequenceCheck observe(SequenceCheck previous, long sequence) {
        return previous == null ? first(sequence) : previous.next(sequence);
    }
}
