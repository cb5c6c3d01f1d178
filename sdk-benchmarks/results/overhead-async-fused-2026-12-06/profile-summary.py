import sys,collections
f=sys.argv[1]
tot=0; inc=collections.Counter(); roots=collections.Counter(); leaf=collections.Counter()
keys=sys.argv[2:]
for line in open(f):
    line=line.rstrip()
    if not line: continue
    st,_,n=line.rpartition(' ')
    n=int(n); tot+=n
    frames=st.split(';')
    roots[frames[1] if len(frames)>1 else frames[0]]+=n
    leaf[frames[-1]]+=n
    for k in keys:
        if any(k in fr for fr in frames): inc[k]+=n
print("total",tot)
for k in keys: print(f"{inc[k]*100/tot:6.1f}% {k}")
print("--- roots")
for r,n in roots.most_common(12): print(f"{n*100/tot:6.1f}% {r}")
print("--- leaves")
for r,n in leaf.most_common(25): print(f"{n*100/tot:6.1f}% {r}")
