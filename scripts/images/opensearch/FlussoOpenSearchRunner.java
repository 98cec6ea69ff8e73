// The codelibs OpenSearchRunner's own main, less its HTTP port cap: it refuses any HTTP
// port above 9299, and containers on the host network need a port range of their own.
import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class FlussoOpenSearchRunner {
  public static void main(final String[] args) throws Exception {
    final OpenSearchRunner runner = new OpenSearchRunner();
    runner.setMaxHttpPort(-1); // serve exactly -baseHttpPort + 1
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (final Exception e) {
        // exiting anyway
      }
    }));
    runner.build(args);
    while (!runner.isClosed()) Thread.sleep(5_000);
  }
}
