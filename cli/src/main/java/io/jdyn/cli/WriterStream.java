package io.jdyn.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * A command's PrintWriter (picocli's out or err) as the byte stream that Trainer's LoggingCallback and
 * the polyglot contexts write to: UTF-8, handed on line by line (and on flush).
 */
final class WriterStream extends OutputStream {
    private final PrintWriter w;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    WriterStream(PrintWriter w) {
        this.w = w;
    }

    @Override
    public synchronized void write(int b) {
        pending.write(b);
        if (b == '\n') flush();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        int lastNewline = -1;
        for (int i = off + len - 1; i >= off; i--) {
            if (b[i] == '\n') {
                lastNewline = i;
                break;
            }
        }
        if (lastNewline < 0) {
            pending.write(b, off, len);
            return;
        }
        pending.write(b, off, lastNewline + 1 - off); // whole lines out now, the rest (maybe half a character) waits
        flush();
        pending.write(b, lastNewline + 1, off + len - lastNewline - 1);
    }

    /** Hands on everything written so far (an unfinished character only at the very end of the output). */
    @Override
    public synchronized void flush() {
        if (pending.size() > 0) {
            w.print(pending.toString(StandardCharsets.UTF_8));
            pending.reset();
        }
        w.flush();
    }
}
