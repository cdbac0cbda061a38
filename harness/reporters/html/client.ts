// The page's own style and its small script: filtering the matrix (status, pair, case-name glob)
// and keeping the visible counts; opening a failure from the matrix; copying a rerun command.
// The script reads everything from the DOM (data-* attributes): no verdict text is ever placed
// inside a <script>, so no case name can end it.

export const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 3em;color:#222}
h1{font-size:1.5em;margin:.6em 0 .2em}h2{font-size:1.2em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
table.facts{border-collapse:collapse}table.facts td,table.facts th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
.banner{padding:.5em 1em;border-radius:4px;margin:.5em 0;font-weight:600}
.banner.fail{background:#fde2e1;color:#8a1c17}.banner.pass{background:#e1f5e3;color:#1d5c26}.banner.incomplete{background:#fff1c2;color:#6b4e00}
.counts span{margin-right:1.2em}
.s-pass{color:#1d7a2c}.s-fail{color:#c62828;font-weight:700}.s-skip{color:#777}.s-todo{color:#8a5a00}
#matrix{border-collapse:collapse;font-size:12px;table-layout:fixed}
#matrix col.idc{width:34em}#matrix col.pc{width:6.5em}#matrix thead th{white-space:normal;word-break:break-all;vertical-align:bottom}
#matrix th,#matrix td{border:1px solid #e3e3e3;padding:1px 4px;white-space:nowrap}
#matrix thead th{position:sticky;top:0;background:#f7f7f7;z-index:1}
#matrix td.id{font-family:monospace;max-width:48em;overflow:hidden;text-overflow:ellipsis}
#matrix .v{font-style:normal;text-align:center}#matrix i.v{display:inline-block;min-width:1.1em;border-radius:3px}
#matrix .v.pass{background:#d8f0dc}#matrix .v.fail{background:#f8c9c6}#matrix .v.skip{background:#eee}#matrix .v.todo{background:#f6e4b8}#matrix .v.off{visibility:hidden}
#matrix a{text-decoration:none;color:inherit}
.filters{position:sticky;top:0;background:#fff;padding:.4em 0;z-index:2}
.filters label{margin-right:1em}
details.failure{border:1px solid #e5b3b0;border-radius:4px;margin:.4em 0;padding:.2em .6em}
details.failure>summary{cursor:pointer;font-family:monospace}
pre.detail{white-space:pre-wrap;background:#faf7f7;padding:.4em;margin:.3em 0}
code.rerun{background:#f3f3f3;padding:2px 4px}
details.skips>summary{cursor:pointer}details.skips pre.list{font-size:12px;max-height:30em;overflow:auto;margin:.2em 0 .6em 1.5em}
.muted{color:#777}svg{max-width:100%;height:auto}
.d2h-tag{display:none}
`;

export const SCRIPT = `
(function(){
  var table=document.getElementById('matrix');
  if(!table)return;
  var statusSel=document.getElementById('f-status'),pairSel=document.getElementById('f-pair'),globIn=document.getElementById('f-glob');
  var rows=null,heads=null,marks=null;
  // Indexed on the first filter, not at load: the counts shown at load are the page's own.
  function index(){
    rows=Array.prototype.slice.call(table.tBodies[0].rows);
    heads=Array.prototype.slice.call(table.tHead.rows[table.tHead.rows.length-1].cells);
    marks=[];
    rows.forEach(function(r,ri){
      var cells=r.cells;
      for(var c=1;c<cells.length;c++){
        var one=cells[c].getAttribute('data-s');
        if(one){marks.push({el:cells[c],row:ri,col:c,s:one});continue;}
        var vs=cells[c].getElementsByTagName('i');
        for(var k=0;k<vs.length;k++)marks.push({el:vs[k],row:ri,col:c,s:vs[k].getAttribute('data-s')});
      }
    });
  }
  function globRe(g){
    if(!g)return null;
    var s=g.replace(/[.+^$\\{\\}()|[\\]\\\\]/g,'\\\\$&').replace(/\\*/g,'.*').replace(/\\?/g,'.');
    return new RegExp('(^|/)'+s+'$');
  }
  function apply(){
    if(!marks)index();
    var st=statusSel.value,pair=pairSel.value,re=globRe(globIn.value.trim());
    var col=-1;
    if(pair){for(var h=1;h<heads.length;h++)if(heads[h].getAttribute('data-pair')===pair)col=h;}
    var show=new Array(rows.length),counts={pass:0,fail:0,skip:0,todo:0};
    for(var i=0;i<rows.length;i++)show[i]=false;
    var okRow=rows.map(function(r){return !re||re.test(r.getAttribute('data-id'));});
    marks.forEach(function(m){
      var vis=okRow[m.row]&&(!st||m.s===st)&&(col<0||m.col===col);
      m.el.classList.toggle('off',!vis);
      if(vis){show[m.row]=true;counts[m.s]++;}
    });
    rows.forEach(function(r,i){r.hidden=!show[i];});
    for(var h2=1;h2<heads.length;h2++){
      var hide=col>=0&&h2!==col;
      heads[h2].hidden=hide;
      for(var j=0;j<rows.length;j++)rows[j].cells[h2].hidden=hide;
    }
    var shown=0;for(var q=0;q<show.length;q++)if(show[q])shown++;
    ['pass','fail','skip','todo'].forEach(function(s){document.getElementById('m-'+s).textContent=counts[s];});
    document.getElementById('m-rows').textContent=shown;
    document.getElementById('m-total').textContent=counts.pass+counts.fail+counts.skip+counts.todo;
  }
  statusSel.addEventListener('change',apply);pairSel.addEventListener('change',apply);globIn.addEventListener('input',apply);
  // A reload keeps the form's values: filter again if any is set.
  if(statusSel.value||pairSel.value||globIn.value)apply();
  function openHash(){
    var id=location.hash.slice(1);
    var el=id&&document.getElementById(id);
    if(el&&el.tagName==='DETAILS'){el.open=true;el.scrollIntoView();}
  }
  window.addEventListener('hashchange',openHash);openHash();
  document.addEventListener('click',function(e){
    var b=e.target;
    if(!b||!b.classList||!b.classList.contains('copy'))return;
    var code=b.previousElementSibling,text=code.textContent;
    function selected(){var r=document.createRange();r.selectNodeContents(code);var s=getSelection();s.removeAllRanges();s.addRange(r);b.textContent='selected: press Ctrl-C';}
    if(navigator.clipboard&&window.isSecureContext)navigator.clipboard.writeText(text).then(function(){b.textContent='copied';},selected);else selected();
  });
  document.documentElement.setAttribute('data-ready','1');
  document.documentElement.setAttribute('data-ready-ms',String(Math.round(performance.now())));
})();
`;
