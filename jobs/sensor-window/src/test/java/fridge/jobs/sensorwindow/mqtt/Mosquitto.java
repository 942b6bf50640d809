package fridge.jobs.sensorwindow.mqtt;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real Mosquitto (Debian's package) on a free loopback port, started by a test and stopped after it. Not
 * installed is a failure, never a skip: the MQTT tests are what proves the source exactly-once.
 */
public final class Mosquitto implements AutoCloseable {
    public final int port;
    private final Process process;
    private final Path log;

    private Mosquitto(int port, Process process, Path log) {
        this.port = port;
        this.process = process;
        this.log = log;
    }

    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    /** The mosquitto binary: $MOSQUITTO, else /usr/sbin/mosquitto (Debian's), else on the PATH. */
    static String binary() {
        String env = System.getenv("MOSQUITTO");
        if (env != null && !env.isEmpty()) {
            if (new File(env).canExecute()) return env;
            throw new AssertionError("MOSQUITTO=" + env + " is not an executable: the MQTT source tests need a real broker");
        }
        if (new File("/usr/sbin/mosquitto").canExecute()) return "/usr/sbin/mosquitto";
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(dir, "mosquitto");
            if (f.canExecute()) return f.getPath();
        }
        throw new AssertionError("mosquitto is not installed, and the MQTT source tests need a real broker: install"
                + " Debian's package (apt-get install mosquitto; tasks/lib/host/prepare-host.sh does) or set MOSQUITTO"
                + " to its path");
    }

    public static Mosquitto start(Path dir) throws Exception {
        String bin = binary();
        Exception last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path conf = dir.resolve("mosquitto-" + port + ".conf");
            Path log = dir.resolve("mosquitto-" + port + ".log");
            Files.writeString(conf, String.join("\n",
                    "listener " + port + " 127.0.0.1",
                    "allow_anonymous true",
                    "persistence false",
                    // The source holds a checkpoint interval of messages unacknowledged, and a stopped job's session
                    // queues everything until it is back: no limits (the defaults are 20 and 1000).
                    "max_inflight_messages 0",
                    "max_queued_messages 0",
                    "log_dest stdout",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",
                    ""), StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(bin, "-c", conf.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && p.isAlive()) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                    return new Mosquitto(port, p, log);
                } catch (IOException notYet) {
                    Thread.sleep(50);
                }
            }
            p.destroyForcibly();
            last = new IllegalStateException(bin + " did not listen on 127.0.0.1:" + port + ":\n" + readLog(log));
        }
        throw last;
    }

    private static String readLog(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public String log() {
        return readLog(log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
}
