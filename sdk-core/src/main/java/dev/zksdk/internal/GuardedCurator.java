package dev.zksdk.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.apache.curator.framework.CuratorFramework;

/**
 * The shared Curator client as handed to lease holders: everything works (recipes included) except {@code close()},
 * which is refused, because the session belongs to the pool and to every other lease on it.
 */
final class GuardedCurator implements InvocationHandler {

  private final CuratorFramework delegate;

  private GuardedCurator(CuratorFramework delegate) {
    this.delegate = delegate;
  }

  static CuratorFramework wrap(CuratorFramework delegate) {
    return (CuratorFramework) Proxy.newProxyInstance(
        CuratorFramework.class.getClassLoader(), new Class<?>[] {CuratorFramework.class}, new GuardedCurator(delegate));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    int arity = args == null ? 0 : args.length;
    if (arity == 0 && name.equals("close")) {
      throw new UnsupportedOperationException(
          "this CuratorFramework is shared by the zk-sdk pool and closed by it: close the lease or the pool instead");
    }
    if (arity == 0 && name.equals("toString")) {
      return "pooled " + delegate;
    }
    if (arity == 0 && name.equals("hashCode")) {
      return System.identityHashCode(proxy);
    }
    if (arity == 1 && name.equals("equals")) {
      return proxy == args[0];
    }
    try {
      return method.invoke(delegate, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
