// Just enough of a DOM for render.js in node: elements, text nodes, children, dataset, textContent.

class Node {
  constructor(doc) {
    this.ownerDocument = doc;
    this.parentNode = null;
  }
  remove() {
    if (!this.parentNode) return;
    const siblings = this.parentNode.childNodes;
    siblings.splice(siblings.indexOf(this), 1);
    this.parentNode = null;
  }
  replaceWith(node) {
    const parent = this.parentNode;
    parent.insertBefore(node, this);
    this.remove();
  }
}

class Text extends Node {
  constructor(doc, data) {
    super(doc);
    this.data = String(data);
  }
  get textContent() {
    return this.data;
  }
}

class Element extends Node {
  constructor(doc, tag) {
    super(doc);
    this.tagName = tag.toUpperCase();
    this.childNodes = [];
    this.attributes = new Map();
    this.dataset = {};
    this.className = '';
  }
  get children() {
    return this.childNodes.filter((n) => n instanceof Element);
  }
  get firstElementChild() {
    return this.children[0] ?? null;
  }
  get nextElementSibling() {
    if (!this.parentNode) return null;
    const siblings = this.parentNode.children;
    return siblings[siblings.indexOf(this) + 1] ?? null;
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join('');
  }
  set textContent(value) {
    for (const child of [...this.childNodes]) child.remove();
    if (value !== '') this.append(new Text(this.ownerDocument, value));
  }
  get classList() {
    const names = () => this.className.split(/\s+/).filter(Boolean);
    return { contains: (name) => names().includes(name) };
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name) {
    return this.attributes.get(name) ?? null;
  }
  append(...nodes) {
    for (const node of nodes) this.insertBefore(typeof node === 'string' ? new Text(this.ownerDocument, node) : node, null);
  }
  insertBefore(node, reference) {
    node.remove();
    const at = reference === null ? this.childNodes.length : this.childNodes.indexOf(reference);
    if (at < 0) throw new Error('reference is not a child');
    this.childNodes.splice(at, 0, node);
    node.parentNode = this;
    return node;
  }
  querySelectorAll(selector) {
    // only ".class" selectors
    const name = selector.replace(/^\./, '');
    const found = [];
    const walk = (el) => {
      for (const child of el.children) {
        if (child.classList.contains(name)) found.push(child);
        walk(child);
      }
    };
    walk(this);
    return found;
  }
  get innerHTML() {
    throw new Error('render.js must not use innerHTML');
  }
  set innerHTML(value) {
    throw new Error('render.js must not use innerHTML');
  }
}

export class MiniDocument {
  createElement(tag) {
    return new Element(this, tag);
  }
  createTextNode(data) {
    return new Text(this, data);
  }
}
